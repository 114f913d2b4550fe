using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// A read's bytes left where they are, in the blob's local file, for a transport that moves them itself
/// (splice(2) on /dev/fuse) instead of having them copied into its buffer. The blob stays open until
/// <see cref="Complete"/>, which every range taken must be given once.
/// </summary>
public readonly struct BlobFileRange
{
    private readonly OpenBlob? _blob;

    internal BlobFileRange(OpenBlob blob, long offset, int count)
    {
        _blob = blob;
        Offset = offset;
        Count = count;
    }

    /// <summary>No range: the read is served by copying.</summary>
    public bool IsEmpty => _blob is null;

    /// <summary>The blob's file, open until <see cref="Complete"/>.</summary>
    public SafeFileHandle File => _blob?.WholeFile ?? throw new InvalidOperationException("an empty range has no file");

    public long Offset { get; }

    /// <summary>The read's length: what was asked, cut at the size the file's node gives.</summary>
    public int Count { get; }

    /// <summary>
    /// Ends the read once <paramref name="moved"/> bytes have gone out (0 when none did): drops the pages
    /// behind them as a copied read would, and lets the blob go.
    /// </summary>
    public void Complete(int moved)
    {
        if (_blob is { } blob)
        {
            blob.DropBehind(Offset, moved);
            blob.Dispose();
        }
    }
}
