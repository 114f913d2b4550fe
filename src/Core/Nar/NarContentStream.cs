namespace CastoreFs.Core.Nar;

/// <summary>The contents of one regular file inside a NAR, read straight from the NAR stream.</summary>
internal sealed class NarContentStream(NarReader reader, ulong size) : Stream
{
    private readonly ulong _size = size;
    private ulong _remaining = size;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => (long)_size;

    public override long Position
    {
        get => (long)(_size - _remaining);
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        int want = (int)Math.Min((ulong)buffer.Length, _remaining);
        int n = await reader.ReadContentsAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
        _remaining -= (ulong)n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public async Task DrainAsync(CancellationToken ct)
    {
        var scratch = new byte[64 * 1024];
        while (_remaining > 0)
        {
            await ReadAsync(scratch, ct).ConfigureAwait(false);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
