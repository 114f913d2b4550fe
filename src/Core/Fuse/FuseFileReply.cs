using CastoreFs.Core.Filesystem;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// A worker's slot for a READ reply whose data stays in the blob's file. A transport that can move file
/// data itself (splice(2) on /dev/fuse) offers one with the payload; after a READ it finds the range here,
/// and the reply's length in the out header, instead of the bytes in its buffer.
/// </summary>
public sealed class FuseFileReply(int maxPages)
{
    private const int PageSize = 4096;

    private BlobFileRange _range;

    /// <summary>The most pages of a file one reply can carry (a pipe's buffers hold one page each).</summary>
    public int MaxPages { get; } = maxPages;

    /// <summary>The pages of the file that <paramref name="count"/> bytes from <paramref name="offset"/> touch.</summary>
    private static int PagesTouched(long offset, int count) => (int)((((offset & (PageSize - 1)) + count) + PageSize - 1) / PageSize);

    /// <summary>Whether the last request left its data in a file.</summary>
    public bool IsSet => !_range.IsEmpty;

    /// <summary>Takes the range out, leaving the slot empty; the taker completes it once the reply is sent.</summary>
    public BlobFileRange Take()
    {
        var range = _range;
        _range = default;
        return range;
    }

    /// <summary>Whether a read of <paramref name="count"/> bytes from <paramref name="offset"/> fits in one reply.</summary>
    internal bool Fits(long offset, int count) => PagesTouched(offset, count) <= MaxPages;

    internal void Set(BlobFileRange range) => _range = range;
}
