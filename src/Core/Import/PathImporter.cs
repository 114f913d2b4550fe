using System.Text;
using CastoreFs.Core.IO;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using Google.Protobuf;
using Microsoft.Win32.SafeHandles;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Import;

/// <summary>
/// Imports a file, directory or symlink (never followed) as <c>nix-store --add</c> would: one walk in NAR
/// order writes blobs and directories and hashes the NAR on the way, so nothing is read twice.
/// </summary>
public sealed class PathImporter(CastoreStore store, IProgress<long>? progress = null)
{
    /// <summary>
    /// Each buffer is one write to the blob file: 16 MiB imported a 1 GiB file in 1.13–1.34 s where 4 MiB
    /// took 1.46–1.66 s (8 alternating rounds), as every write waits for its hash and a hop before the next.
    /// </summary>
    private const int BufferSize = 16 * 1024 * 1024;

    /// <summary>Below this, handing the bytes to other threads costs more than it gains.</summary>
    private const int ConcurrentBytes = 1024 * 1024;

    /// <summary>
    /// Buffers in flight between reading, hashing and writing; aligned for unbuffered writes. Made for the
    /// first large file: an import of small files never needs their 64 MiB.
    /// </summary>
    private Memory<byte>[]? _buffers;
    private long _bytesDone;

    /// <summary>
    /// Windows keeps writers out while a file is read. Elsewhere FileShare is only .NET's advisory flock,
    /// which no other program heeds (the CLI turns it off); a file that changes is caught by its size instead.
    /// </summary>
    private static readonly FileShare SourceShare = OperatingSystem.IsWindows() ? FileShare.Read : FileShare.ReadWrite | FileShare.Delete;

    public async Task<ImportResult> ImportAsync(string path, CancellationToken ct = default)
    {
        var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var name = Path.GetFileName(fullPath);
        ImportResult.RequireStorePathName(name, path);

        using var nar = new NarHashingStream();
        var writer = new NarWriter(nar);
        await writer.WriteHeaderAsync(ct).ConfigureAwait(false);
        await using var directories = store.Directories.BeginPut();
        await using var commits = new BackgroundCommits(store.Blobs);
        Node root;
        try
        {
            root = await ImportNodeAsync(fullPath, ByteString.Empty, writer, directories, commits, ct).ConfigureAwait(false);
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

        var result = ImportResult.ForNar(root, name, (ulong)nar.BytesWritten, nar.Sha256());
        await store.PathInfos.PutAsync(result.PathInfo, ct).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Walks the tree in NAR order with the open directories on a stack of its own, not the call stack, so a
    /// tree as deep as paths may go imports (the kernel's PATH_MAX bounds it, with an error naming the path).
    /// </summary>
    private async Task<Node> ImportNodeAsync(string path, ByteString name, NarWriter writer, IDirectoryPutter directories, BackgroundCommits commits, CancellationToken ct)
    {
        if (await ImportLeafAsync(path, name, writer, commits, inTree: false, ct).ConfigureAwait(false) is { } leaf)
        {
            return leaf;
        }

        var open = new Stack<DirectoryFrame>();
        open.Push(await OpenDirectoryAsync(path, name, writer, ct).ConfigureAwait(false));
        while (true)
        {
            var directory = open.Peek();
            if (directory.Next < directory.Entries.Count)
            {
                var (entryPath, entryName) = directory.Entries[directory.Next++];
                if (entryPath.Contains('\uFFFD', StringComparison.Ordinal) && !Path.Exists(entryPath))
                {
                    throw new ImportException($"{entryPath}: the name is not valid UTF-8");
                }

                Check(entryPath, () => NodeRules.ValidateName(entryName));
                await writer.BeginEntryAsync(entryName, ct).ConfigureAwait(false);
                var childName = ByteString.CopyFrom(entryName);
                if (await ImportLeafAsync(entryPath, childName, writer, commits, inTree: true, ct).ConfigureAwait(false) is { } child)
                {
                    await writer.EndEntryAsync(ct).ConfigureAwait(false);
                    directory.Directory.Add(child);
                }
                else
                {
                    open.Push(await OpenDirectoryAsync(entryPath, childName, writer, ct).ConfigureAwait(false));
                }

                continue;
            }

            open.Pop();
            await writer.EndDirectoryAsync(ct).ConfigureAwait(false);
            await directories.PutAsync(directory.Directory, ct).ConfigureAwait(false);
            var node = new Node { Directory = directory.Directory.ToNode(directory.Name) };
            if (!open.TryPeek(out var parent))
            {
                return node;
            }

            await writer.EndEntryAsync(ct).ConfigureAwait(false);
            parent.Directory.Add(node);
        }
    }

    /// <summary>
    /// Imports a file or symlink whole; null for a directory, which the walk opens instead. A large file
    /// <paramref name="inTree"/> joins the small files' group, which flushes the disk for all of them; a
    /// lone file is flushed on its own (an fsync of it, not a syncfs of everything on its filesystem).
    /// </summary>
    private async Task<Node?> ImportLeafAsync(string path, ByteString name, NarWriter writer, BackgroundCommits commits, bool inTree, CancellationToken ct)
    {
        var status = FileStatus.Of(path);
        switch (status.Kind)
        {
            case FileKind.Regular when status.Size <= BackgroundCommits.SmallBlobBytes:
                return new Node { File = await ImportSmallFileAsync(path, name, status, writer, commits, ct).ConfigureAwait(false) };
            case FileKind.Regular:
                return new Node { File = await ImportFileAsync(path, name, status, writer, inTree ? commits.OpenWrite() : store.Blobs.OpenWrite(), ct).ConfigureAwait(false) };
            case FileKind.Symlink:
                var target = Encoding.UTF8.GetBytes(new FileInfo(path).LinkTarget ?? string.Empty);
                Check(path, () => NodeRules.ValidateSymlinkTarget(target));
                await writer.WriteSymlinkAsync(target, ct).ConfigureAwait(false);
                return new Node { Symlink = new SymlinkNode { Name = name, Target = ByteString.CopyFrom(target) } };
            case FileKind.Directory:
                return null;
            default:
                throw new ImportException($"{path}: is a {status.Kind}; a store holds only regular files, directories and symlinks");
        }
    }

    /// <summary>Lists a directory in NAR order (by name bytes) and writes its opening.</summary>
    private static async Task<DirectoryFrame> OpenDirectoryAsync(string path, ByteString name, NarWriter writer, CancellationToken ct)
    {
        var entries = System.IO.Directory.EnumerateFileSystemEntries(path)
            .Select(entry => (Path: entry, Name: Encoding.UTF8.GetBytes(Path.GetFileName(entry))))
            .OrderBy(e => e.Name, ByteOrder.Instance)
            .ToList();
        await writer.BeginDirectoryAsync(ct).ConfigureAwait(false);
        return new DirectoryFrame(name, entries);
    }

    /// <summary>
    /// A small file is read whole, hashed into the NAR and BLAKE3 here, and stored in the background while
    /// the walk goes on.
    /// </summary>
    private async Task<FileNode> ImportSmallFileAsync(string path, ByteString name, FileStatus status, NarWriter writer, BackgroundCommits commits, CancellationToken ct)
    {
        var digest = await commits.StoreAsync((int)status.Size + 1, async buffer =>
        {
            int read;
            using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, SourceShare))
            {
                // One byte more than the size: a file that grew reads longer. One read that returns the size
                // is the whole file as it was seen, and the read at its end that would confirm it is saved.
                read = RandomAccess.Read(file, buffer.Span, 0);
                if ((ulong)read != status.Size && read > 0)
                {
                    read += ReadFull(file, buffer.Span[read..], read);
                }
            }

            if ((ulong)read != status.Size)
            {
                throw new ImportException($"{path}: changed while it was imported ({status.Size} bytes before, {read} read)");
            }

            var contents = buffer[..read];
            await writer.BeginRegularAsync(status.IsExecutable, status.Size, ct).ConfigureAwait(false);
            await writer.WriteContentsAsync(contents, ct).ConfigureAwait(false);
            await writer.EndRegularAsync(status.Size, ct).ConfigureAwait(false);
            progress?.Report(_bytesDone += read);
            return contents;
        }, ct).ConfigureAwait(false);
        return new FileNode { Name = name, Digest = digest.ToByteString(), Size = status.Size, Executable = status.IsExecutable };
    }

    private async Task<FileNode> ImportFileAsync(string path, ByteString name, FileStatus status, NarWriter writer, IBlobWriter opened, CancellationToken ct)
    {
        await using var blob = opened;
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, SourceShare, FileOptions.SequentialScan);
        await writer.BeginRegularAsync(status.IsExecutable, status.Size, ct).ConfigureAwait(false);
        long read = await CopyContentsAsync(file, (long)status.Size, writer, blob, ct).ConfigureAwait(false);
        if ((ulong)read != status.Size)
        {
            throw new ImportException($"{path}: changed while it was imported ({status.Size} bytes before, {read} read)");
        }

        await writer.EndRegularAsync(status.Size, ct).ConfigureAwait(false);
        var digest = await blob.CommitAsync(ct).ConfigureAwait(false);
        return new FileNode { Name = name, Digest = digest.ToByteString(), Size = status.Size, Executable = status.IsExecutable };
    }

    /// <summary>
    /// Feeds the file to the NAR hash and the blob; returns the bytes read, which stop at one buffer past
    /// <paramref name="size"/> if the file grew.
    /// </summary>
    private async Task<long> CopyContentsAsync(SafeFileHandle file, long size, NarWriter writer, IBlobWriter blob, CancellationToken ct)
    {
        // Two chains take every buffer in order: the NAR hash (SHA-256, the longest stage) and the blob
        // (BLAKE3 and the write). Neither waits for the other, and the reader waits only for a buffer
        // both have finished with, so both cores stay busy while one stage runs slow for a while.
        var narHash = Task.CompletedTask;
        var blobWrite = Task.CompletedTask;
        var buffers = _buffers ??= [.. Enumerable.Range(0, 4).Select(_ => UnbufferedIo.AllocatePinned(BufferSize))];
        var released = new Task[buffers.Length];
        Array.Fill(released, Task.CompletedTask);
        long total = 0;
        try
        {
            for (int next = 0; total <= size; next = (next + 1) % buffers.Length)
            {
                await released[next].ConfigureAwait(false);
                var buffer = buffers[next];
                int n = ReadFull(file, buffer.Span, total);
                if (n == 0)
                {
                    break;
                }

                total += n;
                var chunk = buffer[..n];
                if (n < ConcurrentBytes && narHash.IsCompleted && blobWrite.IsCompleted)
                {
                    await writer.WriteContentsAsync(chunk, ct).ConfigureAwait(false);
                    await blob.WriteAsync(chunk, ct).ConfigureAwait(false);
                }
                else
                {
                    narHash = Then(narHash, () => writer.WriteContentsAsync(chunk, ct));
                    blobWrite = Then(blobWrite, () => blob.WriteAsync(chunk, ct));
                    released[next] = Task.WhenAll(narHash, blobWrite);
                }

                progress?.Report(_bytesDone += n);
            }
        }
        catch
        {
            // The stages still at work finish with the buffers and the blob before those are let go; the
            // failure to report is this one.
            await Task.WhenAll(narHash, blobWrite).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await Task.WhenAll(narHash, blobWrite).ConfigureAwait(false);
        return total;
    }

    /// <summary>Runs <paramref name="step"/> on the thread pool once <paramref name="previous"/> has finished.</summary>
    private static async Task Then(Task previous, Func<ValueTask> step)
    {
        await previous.ConfigureAwait(false);
        await Task.Run(() => step().AsTask()).ConfigureAwait(false);
    }

    /// <summary>Fills <paramref name="buffer"/> unless the file ends first.</summary>
    private static int ReadFull(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        int n;
        while (total < buffer.Length && (n = RandomAccess.Read(file, buffer[total..], offset + total)) > 0)
        {
            total += n;
        }

        return total;
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

    /// <summary>A directory being imported: its name, its entries in NAR order, the next one, and what is built of it.</summary>
    private sealed class DirectoryFrame(ByteString name, List<(string Path, byte[] Name)> entries)
    {
        public ByteString Name { get; } = name;

        public List<(string Path, byte[] Name)> Entries { get; } = entries;

        public int Next { get; set; }

        public Directory Directory { get; } = new();
    }
}
