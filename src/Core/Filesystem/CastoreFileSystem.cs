using System.Text;
using CastoreFs.Core.Digests;
using CastoreFs.Core.IO;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Snix.Castore.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// The store as a read-only tree: the store's path infos (or one directory) at the root, castore nodes
/// below, numbered by content. Platform-neutral: transports (FUSE, virtiofs, WinFsp) turn their requests
/// into these calls. Calls block: transports call from their own dedicated threads, and only a fetch from
/// the store waits.
/// </summary>
public sealed partial class CastoreFileSystem : IDisposable
{
    public const ulong RootInode = InodeTracker.RootInode;

    /// <summary>Blobs kept open for reads without an open: enough for many files read at once, far below fd limits.</summary>
    private const int UnopenedBlobsKept = 256;

    /// <summary>Small-file reads in flight at once: deep enough to keep a disk's queue full, cheap while idle.</summary>
    private const int PrefetchThreads = 16;

    private readonly CastoreStore _store;
    private readonly FileSystemOptions _options;
    private readonly ILogger _logger;
    private readonly InodeTracker _inodes;
    private readonly HandleTable<OpenBlob> _files = new();
    private readonly BlobPrefetcher? _prefetcher;
    private readonly OpenBlobCache _unopened;
    private readonly HandleTable<DirectoryEntry[]> _rootListings = new();

    private CastoreFileSystem(CastoreStore store, FileSystemOptions options, Inode root, ILogger logger)
    {
        Root = options.RootDirectory is { } digest ? TreeNode.ForDirectory(digest, root.Size) : TreeNode.StoreRoot();
        _store = store;
        _options = options;
        _logger = logger;
        _inodes = new InodeTracker(root);
        _unopened = new OpenBlobCache(UnopenedBlobsKept, number => _inodes.Get(number) is not null);
        _prefetcher = store.Blobs is ILocalBlobFiles local ? new BlobPrefetcher(local, PrefetchThreads) : null;
    }

    /// <summary>Small blobs read ahead because a sibling was opened.</summary>
    public long PrefetchedBlobs => _prefetcher?.Prefetched ?? 0;

    /// <summary>Files opened and not yet released.</summary>
    public int OpenHandles => _files.Count;

    /// <summary>Blobs kept open for reads without an open.</summary>
    internal int UnopenedBlobs => _unopened.Count;

    /// <summary>Nodes the kernel holds references to (or was shown), besides the root.</summary>
    public int TrackedInodes => _inodes.Count;

    /// <summary>Opens the filesystem; with a root directory, checks that the store has it.</summary>
    public static async Task<CastoreFileSystem> OpenAsync(
        CastoreStore store, FileSystemOptions? options = null, ILogger? logger = null, CancellationToken ct = default)
    {
        options ??= new FileSystemOptions();
        if (options.RootDirectory is not { } digest)
        {
            return new CastoreFileSystem(store, options, Inode.ForStoreRoot(RootInode), logger ?? NullLogger.Instance);
        }

        var directory = await store.Directories.GetAsync(digest, ct).ConfigureAwait(false)
            ?? throw new DirectoryNotFoundException($"directory {digest.ToHex()} is not in the store");
        var root = Inode.ForDirectory(RootInode, digest, directory.Size());
        root.Listing = ListingOf(directory);
        return new CastoreFileSystem(store, options, root, logger ?? NullLogger.Instance);
    }

    public Errno GetAttributes(ulong inode, out NodeAttributes attributes)
    {
        var node = _inodes.Get(inode);
        attributes = node?.Attributes ?? default;
        return node is null ? Errno.ENOENT : Errno.None;
    }

    /// <summary>Finds a name in a directory; on success the kernel holds one more reference to the result.</summary>
    public Errno Lookup(ulong parent, ReadOnlySpan<byte> name, out NodeAttributes attributes)
    {
        attributes = default;
        var directory = _inodes.Get(parent);
        if (directory is null)
        {
            return Errno.ENOENT;
        }

        if (directory.Kind != NodeKind.Directory)
        {
            return Errno.ENOTDIR;
        }

        Node? node;
        if (IsStoreRoot(directory))
        {
            var error = FindRoot(name, out node);
            if (error != Errno.None)
            {
                return error;
            }
        }
        else
        {
            var error = LoadListing(directory, out var listing);
            if (error != Errno.None)
            {
                return error;
            }

            node = Find(listing, name);
        }

        if (node is null)
        {
            return Errno.ENOENT;
        }

        attributes = _inodes.Reference(node, 1, parent).Attributes;
        return Errno.None;
    }

    /// <summary>
    /// Whether a name missing from this directory stays missing: true everywhere but a store's root, where
    /// imports add names, and a directory no longer tracked, where nothing was looked at.
    /// </summary>
    public bool IsImmutable(ulong directory) => (directory != RootInode || _options.RootDirectory is not null) && _inodes.Get(directory) is not null;

    /// <summary>The kernel dropped <paramref name="lookups"/> references; true when that dropped the node.</summary>
    public bool Forget(ulong inode, ulong lookups)
    {
        if (!_inodes.Forget(inode, lookups))
        {
            return false;
        }

        _unopened.Remove(inode);
        return true;
    }

    /// <summary>Attributes of a listed entry, counted as a lookup (readdirplus).</summary>
    public NodeAttributes LookupEntry(ulong directory, DirectoryEntry entry) => _inodes.Reference(entry.Node, 1, directory).Attributes;

    /// <summary>
    /// The number of a listed entry without a reference (plain readdir). An entry not yet tracked is
    /// numbered now, so that a later lookup shows the same st_ino; it stays until a lookup and its forget.
    /// </summary>
    public ulong InodeOf(ulong directory, DirectoryEntry entry) => _inodes.Reference(entry.Node, 0, directory).Number;

    public Errno ReadLink(ulong inode, out ReadOnlyMemory<byte> target)
    {
        var node = _inodes.Get(inode);
        target = node?.Kind == NodeKind.Symlink ? node.Identity.Memory : default;
        return node is null ? Errno.ENOENT : node.Kind == NodeKind.Symlink ? Errno.None : Errno.EINVAL;
    }

    /// <summary>Opens a directory for listing; at a listable store root the handle holds a snapshot of the roots.</summary>
    public Errno OpenDirectory(ulong inode, out ulong handle)
    {
        handle = 0;
        var node = _inodes.Get(inode);
        if (node is null)
        {
            return Errno.ENOENT;
        }

        if (node.Kind != NodeKind.Directory)
        {
            return Errno.ENOTDIR;
        }

        if (IsStoreRoot(node) && _options.ListRoot)
        {
            var error = ListRoots(out var roots);
            if (error != Errno.None)
            {
                return error;
            }

            handle = _rootListings.Add(roots);
        }

        return Errno.None;
    }

    /// <summary>The directory's entries in name order; offsets into this list are stable for the handle.</summary>
    public Errno ReadDirectory(ulong inode, ulong handle, out IReadOnlyList<DirectoryEntry> entries)
    {
        entries = [];
        var node = _inodes.Get(inode);
        if (node is null)
        {
            return Errno.ENOENT;
        }

        if (node.Kind != NodeKind.Directory)
        {
            return Errno.ENOTDIR;
        }

        if (IsStoreRoot(node))
        {
            if (!_options.ListRoot)
            {
                return Errno.EPERM;
            }

            var roots = _rootListings.Get(handle);
            if (roots is null)
            {
                return Errno.EBADF;
            }

            entries = roots;
            return Errno.None;
        }

        var error = LoadListing(node, out var listing);
        entries = listing;
        return error;
    }

    public void ReleaseDirectory(ulong handle) => _rootListings.Remove(handle);

    /// <summary>Opens a file for reading by handle, until <see cref="Release"/>.</summary>
    public Errno Open(ulong inode, bool forWriting, out ulong handle)
    {
        handle = 0;
        var error = TryOpenBlob(inode, forWriting, out var blob);
        if (error != Errno.None)
        {
            return error;
        }

        handle = _files.Add(blob!);
        return Errno.None;
    }

    /// <summary>
    /// The file's blob as a local file of its own, for a transport to hand to its kernel (passthrough), or
    /// null when the store keeps none. The caller owns the handle.
    /// </summary>
    public Errno OpenLocalFile(ulong inode, out SafeFileHandle? file)
    {
        file = null;
        var node = _inodes.Get(inode);
        var error = CheckOpen(node, forWriting: false);
        if (error != Errno.None || _store.Blobs is not ILocalBlobFiles local)
        {
            return error;
        }

        PrefetchSiblings(node!);
        try
        {
            file = local.TryOpenFile(node!.Digest);
            return Errno.None;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreFailure(inode, "open blob " + node!.Digest.ToHex(), e.Message);
            return Errno.EIO;
        }
    }

    /// <summary>What an open would answer, short of opening the blob: ENOENT, EISDIR, EROFS or none.</summary>
    public Errno CanOpen(ulong inode, bool forWriting) => CheckOpen(_inodes.Get(inode), forWriting);

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length bytes; fewer only at the end of the file. Handle 0
    /// reads a file that was never opened (the transport skips opens): its blob is opened here and kept in a
    /// small cache for the next read.
    /// </summary>
    public unsafe Errno Read(ulong inode, ulong handle, long offset, Span<byte> destination, out int count)
    {
        fixed (byte* p = destination)
        {
            return Read(inode, handle, offset, [new BufferSegment((nint)p, destination.Length)], out count);
        }
    }

    /// <summary>The same read into segments in order (a guest's pages), with no copy between.</summary>
    public Errno Read(ulong inode, ulong handle, long offset, ReadOnlySpan<BufferSegment> destination, out int count)
    {
        count = 0;
        var error = HoldBlob(inode, handle, out var blob);
        return error != Errno.None ? error : ReadHeld(blob!, inode, handle, offset, destination, out count);
    }

    /// <summary>
    /// The same read, left in the blob's local file for the transport to move when the blob has one (see
    /// <see cref="BlobFileRange"/>; <paramref name="count"/> is then the range's length and nothing is
    /// copied), and read into <paramref name="destination"/> otherwise. The blob is held once either way.
    /// </summary>
    public unsafe Errno ReadOrRange(ulong inode, ulong handle, long offset, Span<byte> destination, out BlobFileRange range, out int count)
    {
        range = default;
        count = 0;
        var error = HoldBlob(inode, handle, out var blob);
        if (error != Errno.None)
        {
            return error;
        }

        if (blob!.WholeFile is not null && offset < blob.Length && !destination.IsEmpty)
        {
            range = new BlobFileRange(blob, offset, (int)Math.Min(destination.Length, blob.Length - offset));
            count = range.Count;
            return Errno.None;
        }

        fixed (byte* p = destination)
        {
            return ReadHeld(blob, inode, handle, offset, [new BufferSegment((nint)p, destination.Length)], out count);
        }
    }

    /// <summary>Reads from a blob <see cref="HoldBlob"/> gave, and lets it go.</summary>
    private Errno ReadHeld(OpenBlob blob, ulong inode, ulong handle, long offset, ReadOnlySpan<BufferSegment> destination, out int count)
    {
        count = 0;
        try
        {
            // A BlobVerificationException is an IOException: wrong bytes are never served.
            count = blob.Read(offset, destination);
            return Errno.None;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            return ReadFailed(inode, handle, offset, e);
        }
        finally
        {
            blob.Dispose();
        }
    }

    /// <summary>The open blob a read uses, held until the read disposes it once.</summary>
    private Errno HoldBlob(ulong inode, ulong handle, out OpenBlob? blob)
    {
        if (handle != 0)
        {
            blob = _files.Get(handle);
            return blob is not null && blob.TryHold() ? Errno.None : Errno.EBADF;
        }

        if ((blob = _unopened.Hold(inode)) is not null)
        {
            return Errno.None;
        }

        var error = TryOpenBlob(inode, forWriting: false, out blob);
        if (error == Errno.None)
        {
            blob = _unopened.Add(inode, blob!);
        }

        return error;
    }

    /// <summary>A reader that failed once (a store that went away) is not asked again: the next read reopens.</summary>
    private Errno ReadFailed(ulong inode, ulong handle, long offset, Exception e)
    {
        LogStoreFailure(inode, "read at " + offset, e.Message);
        if (handle == 0)
        {
            _unopened.Remove(inode);
        }

        return Errno.EIO;
    }

    public void Release(ulong handle) => _files.Remove(handle)?.Dispose();

    private static Errno CheckOpen(Inode? node, bool forWriting) =>
        node is null ? Errno.ENOENT : node.Kind != NodeKind.File ? Errno.EISDIR : forWriting ? Errno.EROFS : Errno.None;

    private Errno TryOpenBlob(ulong inode, bool forWriting, out OpenBlob? blob)
    {
        blob = null;
        var node = _inodes.Get(inode);
        var error = CheckOpen(node, forWriting);
        if (error != Errno.None)
        {
            return error;
        }

        PrefetchSiblings(node!);
        return TryOpenBlob(inode, node!.Digest, node.Size, out blob);
    }

    /// <summary>Opens a file's blob; <paramref name="logNode"/> only names it in the log.</summary>
    private Errno TryOpenBlob(ulong logNode, B3Digest digest, ulong fileSize, out OpenBlob? blob)
    {
        blob = null;
        try
        {
            long size = (long)fileSize;
            if (_store.Blobs is ILocalBlobFiles local && local.TryOpenFile(digest) is { } file)
            {
                blob = new OpenBlob(size, file, _options.DropBehindLargeReads);
                return Errno.None;
            }

            var stream = WithTimeout(ct => _store.Blobs.OpenReadAsync(digest, ct));
            if (stream is not null && stream.Length != size)
            {
                // A store that is not ours claimed another length: serving it would end the file early or late.
                LogStoreFailure(logNode, "open blob " + digest.ToHex(), $"the store has {stream.Length} bytes for a file of {size}");
                stream.Dispose();
                return Errno.EIO;
            }

            if (stream is not null)
            {
                blob = new OpenBlob(size, stream, _options.StoreTimeout);
                return Errno.None;
            }
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreFailure(logNode, "open blob " + digest.ToHex(), e.Message);
            return Errno.EIO;
        }

        LogStoreFailure(logNode, "open blob " + digest.ToHex(), "the blob is not in the store");
        return Errno.EIO;
    }

    public Errno GetExtendedAttribute(ulong inode, ReadOnlySpan<byte> name, out byte[] value)
    {
        value = [];
        var node = _inodes.Get(inode);
        if (node is null)
        {
            return Errno.ENOENT;
        }

        var own = ExtendedAttributes.NameFor(node.Kind);
        if (own.IsEmpty || IsStoreRoot(node) || !name.SequenceEqual(own))
        {
            return Errno.ENODATA;
        }

        value = ExtendedAttributes.Value(node);
        return Errno.None;
    }

    /// <summary>The node's xattr names, each followed by NUL.</summary>
    public Errno ListExtendedAttributes(ulong inode, out byte[] names)
    {
        names = [];
        var node = _inodes.Get(inode);
        if (node is null)
        {
            return Errno.ENOENT;
        }

        var own = ExtendedAttributes.NameFor(node.Kind);
        if (!own.IsEmpty && !IsStoreRoot(node))
        {
            names = [.. own, 0];
        }

        return Errno.None;
    }

    /// <summary>
    /// Drops what callers held (every node's references, open files and listings) when the one who held
    /// them is gone: a FUSE session ended, or a guest was reset. Numbers already given out stay unused, so
    /// whatever a caller kept from before finds nothing. Caches of store data stay.
    /// </summary>
    public void ForgetAll()
    {
        _inodes.ForgetAll();
        foreach (var blob in _files.RemoveAll())
        {
            blob.Dispose();
        }

        _rootListings.Clear();
        _unopened.Clear();
    }

    public FileSystemStatistics GetStatistics() => new((ulong)_inodes.Count + 1, 4096, NodeRules.MaxNameBytes);

    public void Dispose()
    {
        foreach (var blob in _files.RemoveAll())
        {
            blob.Dispose();
        }

        _unopened.Clear();
        _prefetcher?.Dispose();
    }

    private bool IsStoreRoot(Inode node) => node.Number == RootInode && _options.RootDirectory is null;

    private static Node? Find(DirectoryEntry[] listing, ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = listing.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = listing[mid].Name.Span.SequenceCompareTo(name);
            if (c == 0)
            {
                return listing[mid].Node;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return null;
    }

    /// <summary>
    /// The first file opened in a directory announces the others: a reader that opens one file of a
    /// directory mostly goes on to the next ones (tar, cp -r, grep -r), and listing alone (find, ls) does not.
    /// </summary>
    private void PrefetchSiblings(Inode file)
    {
        if (_prefetcher is null || file.Parent is not { Listing: { } listing } parent || !parent.StartPrefetch())
        {
            return;
        }

        foreach (var entry in listing)
        {
            if (entry.Node.File is { Size: <= BlobPrefetcher.MaxBlobSize } sibling && sibling.Digest != file.Identity)
            {
                _prefetcher.Enqueue(new B3Digest(sibling.Digest.Span));
            }
        }
    }

    private static DirectoryEntry[] ListingOf(Snix.Castore.V1.Directory directory) =>
        [.. directory.EntriesInNameOrder().Select(static n => new DirectoryEntry(NodeRules.NameOf(n), n))];

    /// <summary>A root is found by its exact store path basename (upstream later accepted any name after the right hash; we don't).</summary>
    private Errno FindRoot(ReadOnlySpan<byte> name, out Node? node)
    {
        node = null;
        if (!StorePath.TryParse(Encoding.UTF8.GetString(name), out var storePath) || storePath is null)
        {
            return Errno.ENOENT;
        }

        try
        {
            var digest = storePath.Digest.ToArray();
            var pathInfo = WithTimeout(ct => _store.PathInfos.GetAsync(digest, ct));
            if (pathInfo?.Node is { } root && NodeRules.NameOf(root).Span.SequenceEqual(name))
            {
                node = root;
            }

            return Errno.None;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreFailure(RootInode, "look up " + storePath.BaseName, e.Message);
            return Errno.EIO;
        }
    }

    private Errno ListRoots(out DirectoryEntry[] roots)
    {
        roots = [];
        try
        {
            roots = WithTimeout(ListRootsAsync);
            return Errno.None;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreFailure(RootInode, "list path infos", e.Message);
            return Errno.EIO;
        }
    }

    private async Task<DirectoryEntry[]> ListRootsAsync(CancellationToken ct)
    {
        var roots = new List<DirectoryEntry>();
        await foreach (var pathInfo in _store.PathInfos.ListAsync(ct).ConfigureAwait(false))
        {
            if (pathInfo.Node is { } node)
            {
                roots.Add(new DirectoryEntry(NodeRules.NameOf(node), node));
            }
        }

        return [.. roots];
    }

    /// <summary>Fetches a directory's entries on first use; a directory missing from the store is EIO, and the mount goes on.</summary>
    private Errno LoadListing(Inode directory, out DirectoryEntry[] listing)
    {
        // Read once: another thread may set it between two reads, and an empty listing would be a
        // name missing, which the kernel then remembers as missing.
        if (directory.Listing is { } cached)
        {
            listing = cached;
            return Errno.None;
        }

        var error = FetchListing(directory.Digest, directory.Number, out listing);
        if (error == Errno.None)
        {
            directory.Listing = listing;
        }

        return error;
    }

    /// <summary>A directory's entries, from the bounded cache of listings or the store; <paramref name="logNode"/> only names it in the log.</summary>
    private Errno FetchListing(B3Digest digest, ulong logNode, out DirectoryEntry[] listing)
    {
        if (_listings.TryGet(digest, out listing))
        {
            return Errno.None;
        }

        listing = [];
        try
        {
            var fetched = WithTimeout(ct => _store.Directories.GetAsync(digest, ct));
            if (fetched is null)
            {
                LogStoreFailure(logNode, "fetch directory " + digest.ToHex(), "the directory is not in the store");
                return Errno.EIO;
            }

            listing = ListingOf(fetched);
            _listings.Add(digest, listing);
            return Errno.None;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreFailure(logNode, "fetch directory " + digest.ToHex(), e.Message);
            return Errno.EIO;
        }
    }

    /// <summary>Waits for a store call, at most <see cref="FileSystemOptions.StoreTimeout"/>.</summary>
    private T WithTimeout<T>(Func<CancellationToken, Task<T>> call)
    {
        using var deadline = new CancellationTokenSource(_options.StoreTimeout);
        try
        {
            return call(deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the store did not answer within {_options.StoreTimeout.TotalSeconds} s", e);
        }
    }

    /// <summary>What a store that is unreachable, damaged or lying throws; all of it is EIO to the caller.</summary>
    private static bool IsStoreFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or ObjectDisposedException or HttpRequestException or TimeoutException or OperationCanceledException
            or global::Grpc.Core.RpcException or System.Data.Common.DbException or CastoreValidationException or InvalidDigestLengthException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: {Action} failed: {Reason}")]
    private partial void LogStoreFailure(ulong node, string action, string reason);
}
