using CastoreFs.Core.Digests;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// The store's 256 prefix folders, each opened (and made, if missing) when a group first writes into it,
/// and held until the group ends: the lookup, the unnamed file and the link a blob costs each name one
/// entry of an open folder. Made from the blob's full path, the three walked the store's path again, and
/// linkat the four names of a /proc link besides.
/// </summary>
internal sealed class EmbeddedBlobFolders(string blobsPath) : IDisposable
{
    private readonly SafeFileHandle?[] _open = new SafeFileHandle?[256];

    /// <summary>The open folder of <paramref name="digest"/>'s file.</summary>
    /// <exception cref="IOException">The folder could not be made or opened.</exception>
    public SafeFileHandle Of(B3Digest digest)
    {
        int prefix = digest.Span[0];
        return Volatile.Read(ref _open[prefix]) ?? Open(prefix);
    }

    private SafeFileHandle Open(int prefix)
    {
        var path = Path.Combine(blobsPath, prefix.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        var opened = LinuxFolder.TryOpen(path);
        if (opened is null)
        {
            System.IO.Directory.CreateDirectory(path);
            opened = LinuxFolder.TryOpen(path) ?? throw new IOException($"{path}: the folder was removed as it was made");
        }

        // Two threads may open the same folder at once: one handle is kept.
        if (Interlocked.CompareExchange(ref _open[prefix], opened, null) is { } raced)
        {
            opened.Dispose();
            return raced;
        }

        return opened;
    }

    public void Dispose()
    {
        foreach (var folder in _open)
        {
            folder?.Dispose();
        }
    }
}
