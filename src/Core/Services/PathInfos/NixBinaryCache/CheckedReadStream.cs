using System.Security.Cryptography;
using CastoreFs.Core.IO;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// Reads through, counting bytes (and SHA-256-hashing them when asked) and refusing more than
/// <paramref name="limit"/>. A failure of the stream below that is not the cache's own is the cache's
/// damaged data, named by <paramref name="what"/>; an archive that decompresses to more than it claims
/// stops at the claim. With <paramref name="bufferSize"/>, the stream below is read in reads of that size
/// (decoders read a few bytes at a time, and xz's asks for its position, which a BufferedStream over a
/// stream that cannot seek refuses).
/// </summary>
internal sealed class CheckedReadStream(
    Stream inner, long limit, string what, bool hash = false, Action<long>? progress = null, int bufferSize = 0) : ForwardReadStream
{
    private readonly IncrementalHash? _sha256 = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    private readonly byte[]? _buffer = bufferSize > 0 ? new byte[bufferSize] : null;
    private int _start;
    private int _end;

    /// <summary>Bytes taken from the stream below: what is counted, bounded and hashed.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Bytes handed to the reader.</summary>
    public override long Position
    {
        get => BytesRead - (_end - _start);
        set => throw new NotSupportedException();
    }

    public byte[] Sha256() => _sha256?.GetCurrentHash() ?? throw new InvalidOperationException("not hashing");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_buffer is null)
        {
            int n = await Checked(() => inner.ReadAsync(buffer, cancellationToken)).ConfigureAwait(false);
            return Count(buffer.Span[..n]);
        }

        if (_start == _end)
        {
            int filled = await Checked(() => inner.ReadAsync(_buffer, cancellationToken)).ConfigureAwait(false);
            _start = 0;
            _end = Count(_buffer.AsSpan(0, filled));
        }

        return Take(buffer.Span);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_buffer is null)
        {
            return Count(buffer.AsSpan(offset, Checked(() => inner.Read(buffer, offset, count))));
        }

        if (_start == _end)
        {
            _start = 0;
            _end = Count(_buffer.AsSpan(0, Checked(() => inner.Read(_buffer, 0, _buffer.Length))));
        }

        return Take(buffer.AsSpan(offset, count));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _sha256?.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Take(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    private async ValueTask<int> Checked(Func<ValueTask<int>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (BinaryCacheException or OperationCanceledException))
        {
            throw new BinaryCacheException($"{what} is damaged: {e.Message}", inner: e);
        }
    }

    private int Checked(Func<int> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not (BinaryCacheException or OperationCanceledException))
        {
            throw new BinaryCacheException($"{what} is damaged: {e.Message}", inner: e);
        }
    }

    private int Count(ReadOnlySpan<byte> bytes)
    {
        BytesRead += bytes.Length;
        if (BytesRead > limit)
        {
            throw new BinaryCacheException($"{what} is longer than the {limit} bytes its narinfo gives");
        }

        _sha256?.AppendData(bytes);
        if (bytes.Length > 0)
        {
            progress?.Invoke(BytesRead);
        }

        return bytes.Length;
    }
}
