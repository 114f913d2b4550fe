using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// Numbers nodes for the kernel and counts its references. A node whose count drops to zero is dropped,
/// and its number is never given to anything again while the filesystem lives, so a stale number can
/// never reach other content.
/// </summary>
internal sealed class InodeTracker
{
    public const ulong RootInode = 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Inode> _byNumber = [];
    private readonly Dictionary<InodeKey, Inode> _byKey = [];
    private ulong _next = RootInode + 1;

    public InodeTracker(Inode root) => _byNumber[root.Number] = root;

    /// <summary>Nodes tracked besides the root.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byNumber.Count - 1;
            }
        }
    }

    public Inode? Get(ulong number)
    {
        lock (_lock)
        {
            return _byNumber.GetValueOrDefault(number);
        }
    }

    /// <summary>
    /// The inode for <paramref name="node"/>'s content, created if needed, with <paramref name="lookups"/>
    /// more kernel references (0 when only its number is shown, as in a plain readdir), named in the
    /// directory numbered <paramref name="parent"/>.
    /// </summary>
    public Inode Reference(Node node, ulong lookups, ulong parent)
    {
        var key = Inode.KeyOf(node, parent);
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var inode))
            {
                inode = Inode.For(_next++, node, parent);
                _byKey.Add(key, inode);
                _byNumber.Add(inode.Number, inode);
            }

            inode.LookupCount += lookups;
            if (inode.Kind == NodeKind.File)
            {
                inode.Parent = _byNumber.GetValueOrDefault(parent);
            }

            return inode;
        }
    }

    /// <summary>Drops every node but the root, as if each was forgotten; numbers still never come back.</summary>
    public void ForgetAll()
    {
        lock (_lock)
        {
            var root = _byNumber[RootInode];
            _byNumber.Clear();
            _byKey.Clear();
            _byNumber[RootInode] = root;
        }
    }

    /// <summary>Drops <paramref name="lookups"/> references; true when that dropped the node.</summary>
    public bool Forget(ulong number, ulong lookups)
    {
        if (number == RootInode)
        {
            return false;
        }

        lock (_lock)
        {
            if (!_byNumber.TryGetValue(number, out var inode))
            {
                return false;
            }

            inode.LookupCount -= Math.Min(lookups, inode.LookupCount);
            if (inode.LookupCount != 0)
            {
                return false;
            }

            _byNumber.Remove(number);
            _byKey.Remove(inode.Key);
            return true;
        }
    }
}
