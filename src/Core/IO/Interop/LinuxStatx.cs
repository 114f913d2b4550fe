using System.Runtime.InteropServices;

namespace CastoreFs.Core.IO.Interop;

/// <summary>statx(2): the file type, mode and size of a path without following a final symlink.</summary>
internal static unsafe partial class LinuxStatx
{
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint StatxType = 0x1;
    public const uint StatxMode = 0x2;
    public const uint StatxSize = 0x200;

    // struct statx is 256 bytes with the same layout on every architecture; stx_mode is a u16 at 28,
    // stx_size a u64 at 40.
    public const int BufferSize = 256;
    public const int ModeOffset = 28;
    public const int SizeOffset = 40;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
