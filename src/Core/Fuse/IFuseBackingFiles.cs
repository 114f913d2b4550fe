using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Fuse;

/// <summary>
/// Registers local files with the kernel for FUSE passthrough, so reads of an open file go straight to
/// its backing file. Only /dev/fuse offers this (as root, kernel 6.9+); virtiofs never does.
/// </summary>
public interface IFuseBackingFiles
{
    /// <summary>A backing id for the file, or false when the kernel refuses.</summary>
    bool TryOpen(SafeFileHandle file, out int backingId);

    void Close(int backingId);
}
