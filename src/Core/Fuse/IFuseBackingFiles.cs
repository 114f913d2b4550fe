using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// Registers local files with the kernel for FUSE passthrough, so reads of an open file go straight to
/// its backing file. Only /dev/fuse offers this (as root, kernel 6.9+); virtiofs never does.
/// </summary>
public interface IFuseBackingFiles
{
    /// <summary>
    /// A backing id (above 0) for the file, or the negative errno the kernel refused it with. The kernel
    /// holds the file itself from then on: the caller may close its descriptor at once.
    /// </summary>
    int Open(SafeFileHandle file);

    /// <summary>0, or the negative errno the kernel refused to close the id with.</summary>
    int Close(int backingId);
}
