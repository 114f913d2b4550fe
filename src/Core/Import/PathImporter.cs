using System.Text;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Directories;
using Google.Protobuf;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Import;

/// <summary>
/// Imports a file, directory or symlink (never followed) as <c>nix-store --add</c> would: one walk in NAR
/// order writes blobs and directories and hashes the NAR on the way, so nothing is read twice.
/// </summary>
public sealed class PathImporter(CastoreStore store, IProgress<long>? progress = null)
{
    private const int BufferSize = 4 * 1024 * 1024;

    private readonly byte[] _buffer = new byte[BufferSize];
    private long _bytesDone;

    public async Task<ImportResult> ImportAsync(string path, CancellationToken ct = default)
    {
        var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var name = Path.GetFileName(fullPath);
        ImportResult.RequireStorePathName(name, path);

        using var nar = new NarHashingStream();
        var writer = new NarWriter(nar);
        await writer.WriteHeaderAsync(ct).ConfigureAwait(false);
        await using var directories = store.Directories.BeginPut();
        var root = await ImportNodeAsync(fullPath, ByteString.Empty, writer, directories, ct).ConfigureAwait(false);
        if (root.NodeCase == Node.NodeOneofCase.Directory)
        {
            await directories.CloseAsync(ct).ConfigureAwait(false);
        }

        var result = ImportResult.ForNar(root, name, (ulong)nar.BytesWritten, nar.Sha256());
        await store.PathInfos.PutAsync(result.PathInfo, ct).ConfigureAwait(false);
        return result;
    }

    private async Task<Node> ImportNodeAsync(string path, ByteString name, NarWriter writer, IDirectoryPutter directories, CancellationToken ct)
    {
        var status = FileStatus.Of(path);
        switch (status.Kind)
        {
            case FileKind.Regular:
                return new Node { File = await ImportFileAsync(path, name, status, writer, ct).ConfigureAwait(false) };
            case FileKind.Symlink:
                var target = Encoding.UTF8.GetBytes(new FileInfo(path).LinkTarget ?? string.Empty);
                Check(path, () => NodeRules.ValidateSymlinkTarget(target));
                await writer.WriteSymlinkAsync(target, ct).ConfigureAwait(false);
                return new Node { Symlink = new SymlinkNode { Name = name, Target = ByteString.CopyFrom(target) } };
            case FileKind.Directory:
                return new Node { Directory = await ImportDirectoryAsync(path, name, writer, directories, ct).ConfigureAwait(false) };
            default:
                throw new ImportException($"{path}: is a {status.Kind}; a store holds only regular files, directories and symlinks");
        }
    }

    private async Task<DirectoryNode> ImportDirectoryAsync(string path, ByteString name, NarWriter writer, IDirectoryPutter directories, CancellationToken ct)
    {
        var entries = System.IO.Directory.EnumerateFileSystemEntries(path)
            .Select(entry => (Path: entry, Name: Encoding.UTF8.GetBytes(Path.GetFileName(entry))))
            .OrderBy(e => e.Name, ByteOrder.Instance)
            .ToList();
        var directory = new Directory();
        await writer.BeginDirectoryAsync(ct).ConfigureAwait(false);
        foreach (var entry in entries)
        {
            if (entry.Path.Contains('\uFFFD', StringComparison.Ordinal) && !Path.Exists(entry.Path))
            {
                throw new ImportException($"{entry.Path}: the name is not valid UTF-8");
            }

            Check(entry.Path, () => NodeRules.ValidateName(entry.Name));
            await writer.BeginEntryAsync(entry.Name, ct).ConfigureAwait(false);
            var child = await ImportNodeAsync(entry.Path, ByteString.CopyFrom(entry.Name), writer, directories, ct).ConfigureAwait(false);
            await writer.EndEntryAsync(ct).ConfigureAwait(false);
            directory.Add(child);
        }

        await writer.EndDirectoryAsync(ct).ConfigureAwait(false);
        await directories.PutAsync(directory, ct).ConfigureAwait(false);
        return directory.ToNode(name);
    }

    private async Task<FileNode> ImportFileAsync(string path, ByteString name, FileStatus status, NarWriter writer, CancellationToken ct)
    {
        await using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.SequentialScan,
        });
        await writer.BeginRegularAsync(status.IsExecutable, status.Size, ct).ConfigureAwait(false);
        await using var blob = store.Blobs.OpenWrite();
        ulong total = 0;
        while (true)
        {
            int n = await file.ReadAtLeastAsync(_buffer, _buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += (ulong)n;
            if (total > status.Size)
            {
                break;
            }

            // The NAR hash (SHA-256) and the blob (BLAKE3 + write) take the same bytes on different cores.
            var chunk = _buffer.AsMemory(0, n);
            var narHash = n >= BufferSize / 4 ? Task.Run(() => writer.WriteContentsAsync(chunk, ct).AsTask(), ct) : writer.WriteContentsAsync(chunk, ct).AsTask();
            await blob.WriteAsync(chunk, ct).ConfigureAwait(false);
            await narHash.ConfigureAwait(false);
            progress?.Report(_bytesDone += n);
        }

        if (total != status.Size)
        {
            throw new ImportException($"{path}: changed while it was imported ({status.Size} bytes before, {total} read)");
        }

        await writer.EndRegularAsync(status.Size, ct).ConfigureAwait(false);
        var digest = await blob.CommitAsync(ct).ConfigureAwait(false);
        return new FileNode { Name = name, Digest = digest.ToByteString(), Size = status.Size, Executable = status.IsExecutable };
    }

    private static void Check(string path, Action validate)
    {
        try
        {
            validate();
        }
        catch (CastoreValidationException e)
        {
            throw new ImportException($"{path}: {e.Message}");
        }
    }
}
