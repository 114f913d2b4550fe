using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>A window [offset, offset + length) of a file: one chunk of a blob stored whole.</summary>
public sealed class WindowStream(SafeFileHandle file, long offset, long length) : BlobReadStream
{
    public override long Length => length;

    protected override ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken ct) =>
        RandomAccess.ReadAsync(file, buffer, offset + position, ct);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }
}
