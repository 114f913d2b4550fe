using System.IO.Hashing;
using System.Runtime.InteropServices;
using CastoreFs.Core.Caching;
using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows.Interop;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Platforms.Windows;

/// <summary>
/// The tree as WinFsp's native file system interface sees it: paths in, NTSTATUS, FILE_INFO, directory
/// entries and reparse points out. Each <see cref="WinFspCallbacks"/> entry lands on one method here.
/// It holds no reference counts: a path is walked in the tree (through a bounded cache of resolved
/// paths), and what a handle holds is released at Close.
/// </summary>
internal sealed unsafe partial class WinFspFileSystem
{
    /// <summary>Resolved paths kept: Explorer touching many paths costs at most twice this many entries.</summary>
    private const int PathsKept = 16384;

    /// <summary>Every node's time, as the Linux mount shows it (mtime 1 s after the epoch), as a FILETIME.</summary>
    internal static readonly ulong NodeTime = (ulong)DateTime.UnixEpoch.AddSeconds(NodeAttributes.Time).ToFileTimeUtc();

    /// <summary>The root's file ID; every other ID is a hash of its path (see <see cref="ChildId"/>).</summary>
    internal const ulong RootId = 1;

    private const uint AllocationUnit = 4096;

    private readonly CastoreFileSystem _tree;
    private readonly WinFspApi _api;
    private readonly ILogger _logger;
    private readonly GenerationalCache<string, NodeInfo> _paths = new(PathsKept);
    private readonly GenerationalCache<string, bool> _directoryLinks = new(PathsKept);
    private readonly HandleTable<OpenItem> _open = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WinFspFileSystem(CastoreFileSystem tree, WinFspApi api, ILogger logger)
    {
        _tree = tree;
        _api = api;
        _logger = logger;
        Self = GCHandle.Alloc(this);
    }

    /// <summary>What the DLL keeps in FSP_FILE_SYSTEM.UserContext to find this instance in a callback; freed by <see cref="Release"/>.</summary>
    public GCHandle Self { get; }

    /// <summary>The DLL's helpers this file system calls back into.</summary>
    public WinFspApi Api => _api;

    /// <summary>Handles open now.</summary>
    public int OpenHandles => _open.Count;

    /// <summary>Paths held in the cache now (bounded).</summary>
    public int CachedPaths => _paths.Count;

    /// <summary>Completes when the DLL says its dispatcher stopped by itself (the driver went away).</summary>
    public Task Stopped => _stopped.Task;

    public static WinFspFileSystem From(nint fileSystem) =>
        (WinFspFileSystem)GCHandle.FromIntPtr(((FileSystemHeader*)fileSystem)->UserContext).Target!;

    /// <summary>Closes what handles still hold and frees <see cref="Self"/>; the DLL calls nothing after this.</summary>
    public void Release()
    {
        foreach (var item in _open.RemoveAll())
        {
            _tree.Release(item.TakeBlob());
        }

        Self.Free();
    }

    /// <summary>
    /// Walks <paramref name="path"/> (<c>\a\b</c>) from the root without following its last component.
    /// Fails with OBJECT_NAME_NOT_FOUND for a missing last component, OBJECT_PATH_NOT_FOUND for a missing
    /// one before it, NOT_A_DIRECTORY through a file, and REPARSE through a symlink, with
    /// <paramref name="reparseIndex"/> at the start of the symlink's component.
    /// </summary>
    internal int Resolve(ReadOnlySpan<char> path, out NodeInfo info, out int reparseIndex)
    {
        reparseIndex = 0;
        info = default;
        if (path.Length == 0 || path[0] != '\\')
        {
            return NtStatus.ObjectNameInvalid;
        }

        if (path.Length == 1)
        {
            info = new NodeInfo(_tree.Root, RootId);
            return NtStatus.Success;
        }

        if (_paths.TryGet(path, out info))
        {
            return NtStatus.Success;
        }

        // From the longest prefix already resolved, then forward a name at a time: a loop, not a
        // recursion, because a caller may send thousands of components.
        var current = new NodeInfo(_tree.Root, RootId);
        int resolved = 0;
        for (int cut = path.Length; (cut = path[..cut].LastIndexOf('\\')) > 0;)
        {
            if (_paths.TryGet(path[..cut], out var cached))
            {
                (current, resolved) = (cached, cut);
                break;
            }
        }

        int currentStart = resolved == 0 ? 0 : path[..resolved].LastIndexOf('\\') + 1;
        Span<byte> bytes = stackalloc byte[WindowsNames.MaxChars * 3];
        while (resolved < path.Length)
        {
            int start = resolved + 1;
            int length = path[start..].IndexOf('\\');
            int end = length < 0 ? path.Length : start + length;
            var name = path[start..end];
            if (name.IsEmpty)
            {
                return NtStatus.ObjectNameInvalid;
            }

            switch (current.Node.Kind)
            {
                case NodeKind.Symlink:
                    reparseIndex = currentStart;
                    return NtStatus.Reparse;
                case NodeKind.File:
                    return NtStatus.NotADirectory;
            }

            bool last = end == path.Length;
            int byteCount = name.Length <= WindowsNames.MaxChars ? WindowsNames.Unmap(name, bytes) : -1;
            TreeNode child = default;
            var error = byteCount < 0 ? Errno.ENOENT : _tree.Child(current.Node, bytes[..byteCount], out child);
            if (error != Errno.None)
            {
                return error == Errno.ENOENT && !last ? NtStatus.ObjectPathNotFound : NtStatus.From(error);
            }

            current = new NodeInfo(child, ChildId(current.FileId, name));
            _paths.Add(path[..end].ToString(), current);
            (currentStart, resolved) = (start, end);
        }

        info = current;
        return NtStatus.Success;
    }

    /// <summary>
    /// A file ID per path, not per content: the same blob at two paths must not look like two hard links
    /// of one file. It is a hash of the path, so it is the same whichever way the path was reached.
    /// </summary>
    internal static ulong ChildId(ulong parentId, ReadOnlySpan<char> windowsName)
    {
        ulong id = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(windowsName), (long)parentId);
        return id is RootId or 0 or ulong.MaxValue ? 2 : id;
    }

    /// <summary>FILE_INFO of a node reached by <paramref name="path"/>.</summary>
    internal void Fill(in NodeInfo info, ReadOnlySpan<char> path, FspFileInfo* fileInfo)
    {
        var node = info.Node;
        *fileInfo = default;
        switch (node.Kind)
        {
            case NodeKind.Directory:
                fileInfo->FileAttributes = WindowsAttributes.Directory;
                break;
            case NodeKind.File:
                fileInfo->FileAttributes = WindowsAttributes.ReadOnly;
                fileInfo->FileSize = node.Size;
                fileInfo->AllocationSize = (node.Size + AllocationUnit - 1) / AllocationUnit * AllocationUnit;
                break;
            default:
                // Windows treats links to directories and to files apart (a directory link is listed and
                // followed as a directory), so a link says which its target is.
                fileInfo->FileAttributes = WindowsAttributes.ReparsePoint | (IsDirectoryLink(path, node) ? WindowsAttributes.Directory : WindowsAttributes.ReadOnly);
                fileInfo->ReparseTag = SymlinkReparseHeader.SymlinkTag;
                break;
        }

        fileInfo->CreationTime = fileInfo->LastAccessTime = fileInfo->LastWriteTime = fileInfo->ChangeTime = NodeTime;
        fileInfo->IndexNumber = info.FileId;
    }

    internal OpenItem? Item(nint context) => _open.Get((ulong)context);

    [LoggerMessage(Level = LogLevel.Error, Message = "WinFsp {Call} failed unexpectedly")]
    internal partial void LogUnexpected(string call, Exception e);
}
