using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Grpc;
using Grpc.Core;
using Snix.Castore.V1;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Blobs from a remote store over gRPC, which is trusted for nothing: only the digest that named a blob
/// is. With an outboard (our servers send one) each 1 MiB group is checked as it arrives
/// (<see cref="VerifiedGroupStream"/>). Without one (tvix and snix servers) the whole blob is fetched into
/// a local cache file and checked before it is opened. A stat's chunks and outboard that contradict each
/// other or the digest are a lying server: an error, never a fallback.
/// </summary>
public sealed class GrpcBlobService(GrpcConnection connection, string cacheDirectory) : IBlobService
{
    /// <summary>Chunks are held in memory while a group is assembled; a blob with larger ones is fetched whole instead.</summary>
    internal const ulong MaxChunkInMemory = 16 * 1024 * 1024;

    private const int PutMessageSize = 1024 * 1024;

    internal string Display => connection.Display;

    private GrpcConnection Connection => connection;

    public async Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default)
    {
        var request = new StatBlobRequest
        {
            Digest = digest.ToByteString(),
            SendChunks = details.HasFlag(BlobDetails.Chunks),
            SendBao = details.HasFlag(BlobDetails.Outboard),
        };
        try
        {
            var response = await connection.CallAsync(m => connection.Invoker
                .AsyncUnaryCall(m.BlobStat, null, connection.Unary(ct), request).ResponseAsync).ConfigureAwait(false);
            var chunks = response.Chunks.Select(c => new ChunkMeta(B3Digest.FromProto(c.Digest, "chunk digest"), c.Size)).ToList();
            return new BlobStat(chunks.Count == 0 ? null : SumOf(digest, chunks), chunks, response.Bao.Memory);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        // A blob in the cache was checked whole before it got there: no call needed.
        if (TryOpenCached(digest) is { } cached)
        {
            return cached;
        }

        var stat = await StatAsync(digest, BlobDetails.Chunks | BlobDetails.Outboard, ct).ConfigureAwait(false);
        if (stat is null)
        {
            return null;
        }

        // An outboard without chunks names nothing to fetch a group by: the blob is read whole.
        if (!stat.Outboard.IsEmpty && stat.Size is { } length)
        {
            var trusted = Outboard.Verify(digest, length, stat.Outboard.Span)
                ?? throw Lie(digest, Outboard.Length(length) != stat.Outboard.Length
                    ? $"sent an outboard of {stat.Outboard.Length} bytes for a blob of {length} bytes, which has {Outboard.Length(length)}"
                    : "sent an outboard that does not compose to the blob's digest");
            if (stat.Chunks.All(c => c.Size <= MaxChunkInMemory))
            {
                return new VerifiedGroupStream(Display, digest, length, trusted, new ChunkedGroups(this, digest, stat.Chunks).FillAsync, readAhead: 0);
            }
        }

        return await OpenCachedAsync(digest, ct).ConfigureAwait(false);
    }

    public IBlobWriter OpenWrite() => new Writer(this);

    /// <summary>Reads one chunk of <paramref name="blob"/> whole into memory: exactly its announced size, or an error.</summary>
    internal async Task<byte[]> ReadChunkAsync(B3Digest blob, ChunkMeta chunk, CancellationToken ct)
    {
        var bytes = new byte[chunk.Size];
        int filled = 0;
        await ReadStreamAsync(chunk.Digest, data =>
        {
            if (data.Length > bytes.Length - filled)
            {
                throw Lie(blob, $"sent chunk {chunk.Digest.ToHex()} longer than its {chunk.Size} bytes");
            }

            data.Span.CopyTo(bytes.AsSpan(filled));
            filled += data.Length;
            return Task.CompletedTask;
        }, ct).ConfigureAwait(false);
        return filled == bytes.Length ? bytes : throw Lie(blob, $"sent {filled} bytes of chunk {chunk.Digest.ToHex()}, which has {chunk.Size}");
    }

    /// <summary>The blob's size as its chunks claim it; empty chunks and sums past 2^63 are lies.</summary>
    private long SumOf(B3Digest digest, IReadOnlyList<ChunkMeta> chunks)
    {
        ulong sum = 0;
        foreach (var chunk in chunks)
        {
            if (chunk.Size == 0 || chunk.Size > long.MaxValue - sum)
            {
                throw Lie(digest, $"listed a chunk of {chunk.Size} bytes");
            }

            sum += chunk.Size;
        }

        return (long)sum;
    }

    private BlobVerificationException Lie(B3Digest digest, string what) => new(digest, $"{connection.Display}: blob {digest.ToHex()}: the server {what}");

    private FileStream? TryOpenCached(B3Digest digest)
    {
        try
        {
            return new FileStream(CachePath(digest), new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read | FileShare.Delete, BufferSize = 0 });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string CachePath(B3Digest digest) => Path.Combine(cacheDirectory, digest.ToHex());

    private async Task<Stream> OpenCachedAsync(B3Digest digest, CancellationToken ct)
    {
        var path = CachePath(digest);
        if (!File.Exists(path))
        {
            System.IO.Directory.CreateDirectory(cacheDirectory);
            var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                var hasher = new Blake3Hasher();
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
                {
                    await ReadStreamAsync(digest, async data =>
                    {
                        hasher.Update(data.Span);
                        await file.WriteAsync(data, ct).ConfigureAwait(false);
                    }, ct).ConfigureAwait(false);
                }

                var actual = hasher.FinalizeDigest();
                if (actual != digest)
                {
                    throw new BlobVerificationException(digest, actual, $"{connection.Display}: blob {digest.ToHex()}");
                }

                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
        }

        return TryOpenCached(digest) ?? throw new IOException($"{path} vanished as it was cached");
    }

    private async Task ReadStreamAsync(B3Digest digest, Func<ReadOnlyMemory<byte>, Task> consume, CancellationToken ct)
    {
        // Restarted whole when the package name is switched, so no data is consumed twice.
        await connection.CallAsync(async m =>
        {
            using var call = connection.Stream(m.BlobRead, new ReadBlobRequest { Digest = digest.ToByteString() }, ct);
            bool first = true;
            while (await call.MoveNextAsync().ConfigureAwait(false))
            {
                first = false;
                await consume(call.Current.Data.Memory).ConfigureAwait(false);
            }

            return first;
        }).ConfigureAwait(false);
    }

    private sealed class Writer(GrpcBlobService owner) : IBlobWriter
    {
        private readonly Blake3Hasher _hasher = new();
        private AsyncClientStreamingCall<BlobChunk, PutBlobResponse>? _call;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            var call = await StartAsync(ct).ConfigureAwait(false);
            _hasher.Update(data.Span);
            for (int at = 0; at < data.Length; at += PutMessageSize)
            {
                var piece = data.Slice(at, Math.Min(PutMessageSize, data.Length - at));
                await call.RequestStream.WriteAsync(new BlobChunk { Data = Google.Protobuf.ByteString.CopyFrom(piece.Span) }, ct).ConfigureAwait(false);
            }
        }

        public async Task<B3Digest> CommitAsync(CancellationToken ct = default)
        {
            var call = await StartAsync(ct).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            var response = await call.ResponseAsync.WaitAsync(owner.Connection.Timeout, ct).ConfigureAwait(false);
            var local = _hasher.FinalizeDigest();
            var remote = B3Digest.FromProto(response.Digest, "PutBlobResponse.digest");
            if (remote != local)
            {
                throw new BlobVerificationException(local, remote, $"{owner.Display}: the server stored a blob");
            }

            return local;
        }

        public ValueTask DisposeAsync()
        {
            _call?.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task<AsyncClientStreamingCall<BlobChunk, PutBlobResponse>> StartAsync(CancellationToken ct)
        {
            var connection = owner.Connection;
            _call ??= await connection.StartClientStreamingAsync(
                m => connection.Invoker.AsyncUnaryCall(m.BlobStat, null, connection.Unary(ct), new StatBlobRequest { Digest = B3Digest.Empty.ToByteString() }).ResponseAsync,
                m => m.BlobPut,
                ct).ConfigureAwait(false);
            return _call;
        }
    }
}
