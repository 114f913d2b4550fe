using CastoreFs.Core.Filesystem;

namespace CastoreFs.Platforms.Windows;

/// <summary>The NTSTATUS values (ntstatus.h) this file system answers with.</summary>
internal static class NtStatus
{
    public const int Success = 0;
    public const int Reparse = 0x00000104;
    public const int BufferOverflow = unchecked((int)0x80000005);
    public const int InvalidDeviceRequest = unchecked((int)0xC0000010);
    public const int EndOfFile = unchecked((int)0xC0000011);
    public const int AccessDenied = unchecked((int)0xC0000022);
    public const int BufferTooSmall = unchecked((int)0xC0000023);
    public const int ObjectNameInvalid = unchecked((int)0xC0000033);
    public const int ObjectNameNotFound = unchecked((int)0xC0000034);
    public const int ObjectPathNotFound = unchecked((int)0xC000003A);
    public const int InsufficientResources = unchecked((int)0xC000009A);
    public const int MediaWriteProtected = unchecked((int)0xC00000A2);
    public const int FileIsADirectory = unchecked((int)0xC00000BA);
    public const int UnexpectedIoError = unchecked((int)0xC00000E9);
    public const int NotADirectory = unchecked((int)0xC0000103);
    public const int CannotDelete = unchecked((int)0xC0000121);
    public const int IoDeviceError = unchecked((int)0xC0000185);
    public const int NotAReparsePoint = unchecked((int)0xC0000275);
    public const int InvalidHandle = unchecked((int)0xC0000008);

    /// <summary>The tree's error as Windows says it (as WinFsp's FUSE layer maps errno); a store that failed is a device I/O error.</summary>
    public static int From(Errno error) => error switch
    {
        Errno.None => Success,
        Errno.ENOENT => ObjectNameNotFound,
        Errno.ENOTDIR => NotADirectory,
        Errno.EISDIR => FileIsADirectory,
        Errno.EPERM or Errno.EACCES => AccessDenied,
        Errno.EROFS => MediaWriteProtected,
        Errno.EBADF => InvalidHandle,
        Errno.EINVAL => InvalidDeviceRequest,
        _ => IoDeviceError,
    };
}
