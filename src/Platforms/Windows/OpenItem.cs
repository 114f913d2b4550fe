using CastoreFs.Core.Filesystem;

namespace CastoreFs.Platforms.Windows;

/// <summary>What one open handle of the drive holds, from Open to Close.</summary>
internal sealed class OpenItem(string path, NodeInfo info, DirectoryEntry[]? listing)
{
    private ulong _blob;

    /// <summary>The path it was opened by, as the driver gave it.</summary>
    public string Path { get; } = path;

    public NodeInfo Info { get; } = info;

    /// <summary>A directory's entries, taken at open: a listing continued after a marker sees the same names.</summary>
    public DirectoryEntry[]? Listing { get; } = listing;

    /// <summary>The file's open blob in the tree, 0 until the first read: opens only to look at attributes cost no blob.</summary>
    public ulong Blob => Volatile.Read(ref _blob);

    /// <summary>Keeps <paramref name="blob"/> unless a racing read set one first; returns the one kept.</summary>
    public ulong SetBlob(ulong blob) => Interlocked.CompareExchange(ref _blob, blob, 0) is var previous and not 0 ? previous : blob;

    /// <summary>Takes the blob for releasing (Close), leaving none.</summary>
    public ulong TakeBlob() => Interlocked.Exchange(ref _blob, 0);
}
