using CastoreFs.Core.IO.Interop;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// Dropping behind: a blob read through a FUSE mount is kept in the mount's own page cache, so its file's
/// pages in the host's page cache are a second copy. Once a read is <see cref="DropDistance"/> past them
/// they are dropped. Reading around the page cache instead (O_DIRECT) gave the same single copy, but on a
/// virtual disk it peaked at 1.3 GB/s at every queue depth, where buffered reads with the disk's own
/// readahead reach 2.2 GB/s.
/// </summary>
internal sealed partial class OpenBlob
{
    /// <summary>
    /// How far behind a read its pages go: the mount's 8 MiB readahead has up to eight 1 MiB READs in
    /// flight, which may arrive out of order, and none of them should find its pages gone.
    /// </summary>
    public const long DropDistance = 8 << 20;

    /// <summary>The largest page-cache folio (a PMD, 2 MiB on x86-64 and arm64): a range that covers part of one drops none of it.</summary>
    private const long DropGranule = 2 << 20;

    /// <summary>Whether reads still drop the pages behind them (false once the kernel refused).</summary>
    public bool DropsBehind => Volatile.Read(ref _dropsBehind);

    /// <summary>
    /// Drops whole granules of [offset, offset + count) moved back by the distance. Sequential reads cover
    /// the file up to the distance behind the last one; the last 8 MiB stay cached. A read that ends more
    /// than the distance behind the furthest one (its thread held up on a loaded machine, or a reader gone
    /// back) drops the granules it touched itself: the reads beyond it dropped them before it brought
    /// them back.
    /// </summary>
    internal void DropBehind(long offset, long count)
    {
        if (!Volatile.Read(ref _dropsBehind) || WholeFile is not { } file)
        {
            return;
        }

        bool late = offset + count + DropDistance <= InterlockedMax(ref _furthestRead, offset + count);
        long start = late ? AlignDown(offset) : AlignDown(Math.Max(0, offset - DropDistance));
        long end = late ? AlignDown(offset + count + DropGranule - 1) : AlignDown(offset + count - DropDistance);
        if (end > start && !FileAdvice.DropCached(file, start, end - start))
        {
            Volatile.Write(ref _dropsBehind, false);
        }
    }

    private static long AlignDown(long offset) => offset & ~(DropGranule - 1);

    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> if below it; returns the larger.</summary>
    private static long InterlockedMax(ref long target, long value)
    {
        long seen = Volatile.Read(ref target);
        while (value > seen)
        {
            long before = Interlocked.CompareExchange(ref target, value, seen);
            if (before == seen)
            {
                return value;
            }

            seen = before;
        }

        return seen;
    }
}
