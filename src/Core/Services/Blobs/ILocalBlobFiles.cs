using CastoreFs.Core.Digests;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A blob service that keeps each blob whole in one local file. A reader on the same machine may open
/// that file itself: no stream, no task, and a handle the kernel can read from directly (passthrough).
/// </summary>
public interface ILocalBlobFiles
{
    /// <summary>The blob's own file opened for reading, or null when the blob has none.</summary>
    SafeFileHandle? TryOpenFile(B3Digest digest);
}
