using CastoreFs.Core.IO;

namespace CastoreFs.Core.Import;

/// <summary>Passes reads through and copies every byte read into a sink (the NAR hash).</summary>
internal sealed class HashingReadStream(Stream inner, Stream sink) : ForwardReadStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        sink.Write(buffer.Span[..n]);
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = inner.Read(buffer, offset, count);
        sink.Write(buffer, offset, n);
        return n;
    }
}
