using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace CastoreFs.Core.Tests;

/// <summary>Which of a file's pages are in the page cache, by mincore(2) over a mapping of it (Linux only).</summary>
public static unsafe partial class PageCache
{
    public const int PageSize = 4096;

    /// <summary>The largest page-cache folio (a PMD): the kernel drops whole ones only.</summary>
    private const long LargestFolio = 2L << 20;

    /// <summary>Reports the test Inconclusive where dropped pages cannot be seen: off Linux, or on tmpfs.</summary>
    public static void RequireDroppable(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("dropping pages is posix_fadvise and counting them mincore, Linux only here");
        }

        if (new DriveInfo(directory).DriveFormat == "tmpfs")
        {
            Assert.Inconclusive($"{directory} is tmpfs, whose pages are the file itself and never dropped");
        }
    }

    /// <summary>Where the pages a sequential read drops <paramref name="distance"/> behind it end: the last whole folio that far behind the end.</summary>
    public static long DroppedBehind(long length, long distance) => (length - distance) & ~(LargestFolio - 1);

    /// <summary>Whether each page of the file is cached, in order; a page-sized tail counts as a page.</summary>
    public static bool[] Resident(string path)
    {
        long length = new FileInfo(path).Length;
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        var pages = new byte[(length + PageSize - 1) / PageSize];
        byte* address = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref address);
        try
        {
            fixed (byte* vector = pages)
            {
                // A view at offset 0 starts on a page: nothing is skipped before the file's first byte.
                if (Mincore(address, (nuint)length, vector) != 0)
                {
                    throw new IOException($"mincore of {path}: errno {Marshal.GetLastPInvokeError()}");
                }
            }
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }

        return pages.Select(p => (p & 1) != 0).ToArray();
    }

    /// <summary>Cached bytes of the file's range [start, end), counted in whole pages.</summary>
    public static long ResidentBytes(string path, long start, long end) =>
        Resident(path).Skip((int)(start / PageSize)).Take((int)((end - start) / PageSize)).Count(r => r) * (long)PageSize;

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(void* address, nuint length, byte* vector);
}
