namespace CastoreFs.Core.Filesystem;

/// <summary>
/// POSIX error numbers (Linux values), the error vocabulary of every filesystem operation. FUSE sends them
/// as they are; other platforms map them to their own codes.
/// </summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    EBADF = 9,
    EAGAIN = 11,
    EACCES = 13,
    EBUSY = 16,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    ETXTBSY = 26,
    EROFS = 30,
    ERANGE = 34,
    ENOSYS = 38,
    ENODATA = 61,
    EPROTO = 71,
}
