using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.IO.Interop;

/// <summary>preadv(2): one read into many buffers, which .NET offers only over Memory&lt;T&gt; lists that it allocates for.</summary>
internal static partial class VectorRead
{
    public static bool IsAvailable => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    /// <summary>Bytes read, or -errno.</summary>
    public static unsafe long Read(SafeFileHandle file, ReadOnlySpan<BufferSegment> segments, long offset)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            fixed (BufferSegment* iov = segments)
            {
                long n = Preadv((int)file.DangerousGetHandle(), iov, segments.Length, offset);
                return n >= 0 ? n : -Marshal.GetLastPInvokeError();
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "preadv", SetLastError = true)]
    private static unsafe partial long Preadv(int fd, BufferSegment* iov, int count, long offset);
}
