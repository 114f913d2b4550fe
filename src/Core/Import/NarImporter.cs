using CastoreFs.Core.Digests;
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
        NarContents contents;
        try
        {
            contents = await IngestAsync(nar, store.Blobs, store.Directories, progress, ct).ConfigureAwait(false);
        }
        catch (NarFormatException e)
        {
            throw new ImportException($"{source}: {e.Message}", e);
        }

        var result = ImportResult.ForNar(contents.Root, name, contents.NarSize, contents.NarSha256);
        await store.PathInfos.PutAsync(result.PathInfo, ct).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Puts the blobs and directories of a NAR (to its end: bytes after it are an error) and returns its
    /// root, unnamed, with the NAR's size and SHA-256; registers no path info.
    /// </summary>
    /// <exception cref="NarFormatException">The stream is not one whole NAR.</exception>
    public static async Task<NarContents> IngestAsync(
        Stream nar, IBlobService blobs, IDirectoryService directoryService, IProgress<long>? progress, CancellationToken ct)
    {
        using var hash = new NarHashingStream();
        var input = new BufferedStream(nar, BufferSize);
        await using var directories = directoryService.BeginPut();
        await using var commits = new BackgroundCommits(blobs);
        Node root;
        try
        {
            root = await new NarReader(new HashingReadStream(input, hash)).ReadAsync(new Visitor(blobs, directories, commits, progress), ct).ConfigureAwait(false);
            if (await input.ReadAsync(new byte[1], ct).ConfigureAwait(false) != 0)
            {
                throw new NarFormatException("bytes follow the end of the NAR");
            }
        }
        catch
        {
            // Commits still running write into the store: they end before it may be let go.
            await commits.WhenAllAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await commits.CommitAsync(ct).ConfigureAwait(false);

        if (root.NodeCase == Node.NodeOneofCase.Directory)
        {
            await directories.CloseAsync(ct).ConfigureAwait(false);
        }

        return new NarContents(root, (ulong)hash.BytesWritten, hash.Sha256());
    }

    /// <summary>Small files are read whole and stored in the background, as a path import does.</summary>
    private sealed class Visitor(IBlobService blobs, IDirectoryPutter directories, BackgroundCommits commits, IProgress<long>? progress) : INarVisitor<Node>
    {
        /// <summary>Aligned, and filled whole, so that large files are written around the page cache.</summary>
        private readonly Memory<byte> _buffer = UnbufferedIo.AllocatePinned(BufferSize);
        private long _bytesDone;

        public async Task<Node> RegularAsync(byte[] name, bool executable, ulong size, Stream contents, CancellationToken ct)
        {
            var node = new FileNode { Name = ByteString.CopyFrom(name), Size = size, Executable = executable };
            node.Digest = (size <= BackgroundCommits.SmallBlobBytes
                ? await CommitSmallAsync((int)size, contents, ct).ConfigureAwait(false)
                : await CommitLargeAsync(contents, ct).ConfigureAwait(false)).ToByteString();
            return new Node { File = node };
        }

        private Task<B3Digest> CommitSmallAsync(int size, Stream contents, CancellationToken ct) => commits.StoreAsync(size, async buffer =>
        {
            int n = await contents.ReadAtLeastAsync(buffer, size, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (n != size)
            {
                throw new NarFormatException($"the NAR ends {size - n} bytes into a file of {size}");
            }

            progress?.Report(_bytesDone += n);
            return (ReadOnlyMemory<byte>)buffer[..n];
        }, ct);

        private async Task<B3Digest> CommitLargeAsync(Stream contents, CancellationToken ct)
        {
            await using var blob = blobs.OpenWrite();
            int n;
            while ((n = await contents.ReadAtLeastAsync(_buffer, _buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
            {
                await blob.WriteAsync(_buffer[..n], ct).ConfigureAwait(false);
                progress?.Report(_bytesDone += n);
            }

            return await blob.CommitAsync(ct).ConfigureAwait(false);
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
