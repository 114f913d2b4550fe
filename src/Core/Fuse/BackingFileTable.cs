using System.Collections.Concurrent;
using CastoreFs.Core.Filesystem;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// One passthrough backing id per node, registered on the node's first open and closed when the kernel
/// forgets the node. The kernel ties a backing file to its inode while any passthrough open of it lasts,
/// and fails with EIO an open that brings a different one (fs/fuse/iomode.c), so every open of a node
/// must hand over the same id; keeping it for the node's life, rather than per open, also spares an
/// ioctl per open and leaves no window between a RELEASE and the next OPEN of the same node.
/// </summary>
internal sealed partial class BackingFileTable(IFuseBackingFiles kernel, ILogger logger)
{
    private readonly ConcurrentDictionary<ulong, int> _byNode = new();

    /// <summary>Backing ids the kernel holds for us.</summary>
    public int Count => _byNode.Count;

    public bool TryGet(ulong node, out int backingId) => _byNode.TryGetValue(node, out backingId);

    /// <summary>
    /// The node's backing id, registering <paramref name="file"/> if it has none yet (the caller closes the
    /// file); 0 when the kernel refuses it, which is logged.
    /// </summary>
    public int Register(ulong node, SafeFileHandle file)
    {
        int id = kernel.Open(file);
        if (id <= 0)
        {
            LogOpenRefused(node, (Errno)(-id));
            return 0;
        }

        int kept = _byNode.GetOrAdd(node, id);
        if (kept != id)
        {
            // Another open of the node registered first: its id is the one every open gets.
            Close(node, id);
        }

        return kept;
    }

    /// <summary>The kernel forgot the node: its backing id goes too.</summary>
    public void Forget(ulong node)
    {
        if (_byNode.TryRemove(node, out int id))
        {
            Close(node, id);
        }
    }

    /// <summary>The session ended: every backing id goes.</summary>
    public void ForgetAll()
    {
        foreach (var node in _byNode.Keys)
        {
            Forget(node);
        }
    }

    private void Close(ulong node, int id)
    {
        int result = kernel.Close(id);
        if (result < 0)
        {
            LogCloseRefused(id, node, (Errno)(-result));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: the kernel refused its file for passthrough ({Error}); its reads are served here")]
    private partial void LogOpenRefused(ulong node, Errno error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the kernel refused to close backing id {Id} of node {Node}: {Error}")]
    private partial void LogCloseRefused(int id, ulong node, Errno error);
}
