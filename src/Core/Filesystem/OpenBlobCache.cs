namespace CastoreFs.Core.Filesystem;

/// <summary>
/// Blobs kept open for reads that come by inode, without an open (FUSE no_open): a file read in many
/// requests is opened once. The least recently used blob is closed beyond <paramref name="capacity"/>,
/// so open files stay bounded however many inodes the kernel holds. It never keeps the blob of an inode
/// the tree has dropped: <paramref name="isTracked"/> is asked under the cache's lock, and whoever drops
/// an inode removes it here after, so a read racing the drop cannot leave its blob behind.
/// </summary>
internal sealed class OpenBlobCache(int capacity, Func<ulong, bool> isTracked)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, LinkedListNode<(ulong Inode, OpenBlob Blob)>> _byInode = [];
    private readonly LinkedList<(ulong Inode, OpenBlob Blob)> _recent = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byInode.Count;
            }
        }
    }

    /// <summary>The inode's blob, held for the caller (dispose it after the read), or null.</summary>
    public OpenBlob? Hold(ulong inode)
    {
        lock (_lock)
        {
            if (!_byInode.TryGetValue(inode, out var entry) || !entry.Value.Blob.TryHold())
            {
                return null;
            }

            _recent.Remove(entry);
            _recent.AddFirst(entry);
            return entry.Value.Blob;
        }
    }

    /// <summary>
    /// Keeps <paramref name="blob"/> (held by the caller) for the inode; another thread's blob if it came
    /// first. The blob of an inode no longer tracked is not kept: the caller's hold is its last.
    /// </summary>
    public OpenBlob Add(ulong inode, OpenBlob blob)
    {
        OpenBlob? evicted = null;
        lock (_lock)
        {
            if (_byInode.TryGetValue(inode, out var existing) && existing.Value.Blob.TryHold())
            {
                blob.Dispose();
                return existing.Value.Blob;
            }

            if (!isTracked(inode))
            {
                return blob;
            }

            Drop(inode);
            blob.TryHold();
            _byInode[inode] = _recent.AddFirst((inode, blob));
            if (_byInode.Count > capacity)
            {
                var last = _recent.Last!.Value;
                evicted = Drop(last.Inode);
            }
        }

        evicted?.Dispose();
        return blob;
    }

    /// <summary>Closes the inode's blob once no read holds it.</summary>
    public void Remove(ulong inode)
    {
        OpenBlob? removed;
        lock (_lock)
        {
            removed = Drop(inode);
        }

        removed?.Dispose();
    }

    public void Clear()
    {
        List<OpenBlob> all;
        lock (_lock)
        {
            all = [.. _recent.Select(entry => entry.Blob)];
            _recent.Clear();
            _byInode.Clear();
        }

        all.ForEach(blob => blob.Dispose());
    }

    private OpenBlob? Drop(ulong inode)
    {
        if (!_byInode.Remove(inode, out var entry))
        {
            return null;
        }

        _recent.Remove(entry);
        return entry.Value.Blob;
    }
}
