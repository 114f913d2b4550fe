using CastoreFs.Core.IO;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using Google.Protobuf;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Import;

/// <summary>
/// Imports a NAR stream as a store path named by its hash and <c>name</c>; the same PathInfo as importing
/// the tree it holds. A truncated or malformed NAR registers nothing.
/// </summary>
public sealed class NarImporter(CastoreStore store, IProgress<long>? progress = null)
{
    private const int BufferSize = 1024 * 1024;

    public async Task<ImportResult> ImportAsync(Stream nar, string name, string source, CancellationToken ct = default)
    {
        ImportResult.RequireStorePathName(name, $"--name {name}");

        using var hash = new NarHashingStream();
        var input = new HashingReadStream(new BufferedStream(nar, BufferSize), hash);
        await using var directories = store.Directories.BeginPut();
        Node root;
        try
        {
            root = await new NarReader(input).ReadAsync(new Visitor(store.Blobs, directories, progress), ct).ConfigureAwait(false);
        }
        catch (NarFormatException e)
        {
            throw new ImportException($"{source}: {e.Message}", e);
        }

        if (root.NodeCase == Node.NodeOneofCase.Directory)
        {
            await directories.CloseAsync(ct).ConfigureAwait(false);
        }

        var result = ImportResult.ForNar(root, name, (ulong)hash.BytesWritten, hash.Sha256());
        await store.PathInfos.PutAsync(result.PathInfo, ct).ConfigureAwait(false);
        return result;
    }

    private sealed class Visitor(IBlobService blobs, IDirectoryPutter directories, IProgress<long>? progress) : INarVisitor<Node>
    {
        /// <summary>Aligned, and filled whole, so that large files are written around the page cache.</summary>
        private readonly Memory<byte> _buffer = UnbufferedIo.AllocatePinned(BufferSize);
        private long _bytesDone;

        public async Task<Node> RegularAsync(byte[] name, bool executable, ulong size, Stream contents, CancellationToken ct)
        {
            await using var blob = blobs.OpenWrite();
            int n;
            while ((n = await contents.ReadAtLeastAsync(_buffer, _buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
            {
                await blob.WriteAsync(_buffer[..n], ct).ConfigureAwait(false);
                progress?.Report(_bytesDone += n);
            }

            var digest = await blob.CommitAsync(ct).ConfigureAwait(false);
            return new Node { File = new FileNode { Name = ByteString.CopyFrom(name), Digest = digest.ToByteString(), Size = size, Executable = executable } };
        }

        public Node Symlink(byte[] name, byte[] target) =>
            new() { Symlink = new SymlinkNode { Name = ByteString.CopyFrom(name), Target = ByteString.CopyFrom(target) } };

        public async Task<Node> DirectoryAsync(byte[] name, IReadOnlyList<Node> entries, CancellationToken ct)
        {
            // NAR entries arrive sorted, so each list comes out sorted too.
            var directory = new Directory();
            foreach (var entry in entries)
            {
                directory.Add(entry);
            }

            await directories.PutAsync(directory, ct).ConfigureAwait(false);
            return new Node { Directory = directory.ToNode(ByteString.CopyFrom(name)) };
        }
    }
}
