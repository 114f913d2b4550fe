using CastoreFs.Core.IO;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// A response body whose every read must bring bytes within the timeout; a stall or a broken connection
/// is a transient <see cref="BinaryCacheException"/>. Disposing it ends the response.
/// </summary>
internal sealed class TimedReadStream(Stream body, IDisposable response, TimeSpan timeout, Uri location) : ForwardReadStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await body.ReadAsync(buffer, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BinaryCacheException($"{location}: no bytes for {timeout.TotalSeconds} s", transient: true, e);
        }
        catch (IOException e)
        {
            throw new BinaryCacheException($"{location}: {e.Message}", transient: true, e);
        }
    }

    // Decompressors read synchronously; the deadline needs the asynchronous read underneath.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
