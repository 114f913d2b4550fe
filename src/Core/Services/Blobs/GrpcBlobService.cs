using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Grpc;
using Grpc.Core;
using Snix.Castore.V1;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Blobs from a remote store over gRPC. Nothing the server sends reaches a caller unverified: with a
/// chunk list each chunk is checked on arrival (<see cref="VerifiedChunkedStream"/>); without one the
/// whole blob is fetched into a local cache file and checked before it is opened.
/// </summary>
public sealed class GrpcBlobService(GrpcConnection connection, string cacheDirectory) : IBlobService
{
    /// <summary>Chunks are held in memory while read; larger claimed chunks go through the cache file instead.</summary>
    internal const ulong MaxChunkInMemory = 16 * 1024 * 1024;

    private const int PutMessageSize = 1024 * 1024;

    private GrpcConnection Connection => connection;

    public async Task<IReadOnlyList<ChunkMeta>?> StatAsync(B3Digest digest, CancellationToken ct = default)
    {
        try
        {
            var response = await connection.CallAsync(m => connection.Invoker
                .AsyncUnaryCall(m.BlobStat, null, new CallOptions(cancellationToken: ct), new StatBlobRequest { Digest = digest.ToByteString(), SendChunks = true })
                .ResponseAsync).ConfigureAwait(false);
            return response.Chunks.Select(c => new ChunkMeta(B3Digest.FromProto(c.Digest, "chunk digest"), c.Size)).ToList();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        var chunks = await StatAsync(digest, ct).ConfigureAwait(false);
        if (chunks is null)
        {
            return null;
        }

        if (chunks.Count > 1 && chunks.All(c => c.Size is > 0 and <= MaxChunkInMemory))
        {
            return new VerifiedChunkedStream(this, chunks);
        }

        return await OpenCachedAsync(digest, ct).ConfigureAwait(false);
    }

    public IBlobWriter OpenWrite() => new Writer(this);

    /// <summary>Reads one blob or chunk whole into memory and checks it before returning it.</summary>
    internal async Task<byte[]> ReadVerifiedAsync(B3Digest digest, ulong expectedSize, CancellationToken ct)
    {
        var buffer = new MemoryStream((int)expectedSize);
        var hasher = new Blake3Hasher();
        await ReadStreamAsync(digest, async data =>
        {
            if ((ulong)(buffer.Length + data.Length) > expectedSize)
            {
                throw new IOException($"{connection.Display}: chunk {digest.ToHex()} is longer than its {expectedSize} bytes");
            }

            hasher.Update(data.Span);
            await buffer.WriteAsync(data, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        Verify(digest, hasher, "chunk");
        return buffer.ToArray();
    }

    private async Task<Stream> OpenCachedAsync(B3Digest digest, CancellationToken ct)
    {
        var path = Path.Combine(cacheDirectory, digest.ToHex());
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

                Verify(digest, hasher, "blob");
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
        }

        return new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read | FileShare.Delete, BufferSize = 0 });
    }

    private void Verify(B3Digest expected, Blake3Hasher hasher, string what)
    {
        var actual = hasher.FinalizeDigest();
        if (actual != expected)
        {
            throw new BlobVerificationException(expected, actual, $"{connection.Display}: {what} {expected.ToHex()}");
        }
    }

    private async Task ReadStreamAsync(B3Digest digest, Func<ReadOnlyMemory<byte>, Task> consume, CancellationToken ct)
    {
        // Restarted whole when the package name is switched, so no data is consumed twice.
        await connection.CallAsync(async m =>
        {
            using var call = connection.Invoker.AsyncServerStreamingCall(
                m.BlobRead, null, new CallOptions(cancellationToken: ct), new ReadBlobRequest { Digest = digest.ToByteString() });
            bool first = true;
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                first = false;
                await consume(call.ResponseStream.Current.Data.Memory).ConfigureAwait(false);
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
            var response = await call.ResponseAsync.ConfigureAwait(false);
            var local = _hasher.FinalizeDigest();
            var remote = B3Digest.FromProto(response.Digest, "PutBlobResponse.digest");
            if (remote != local)
            {
                throw new BlobVerificationException(local, remote, $"{owner.Connection.Display}: the server stored a blob");
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
                m => connection.Invoker.AsyncUnaryCall(m.BlobStat, null, new CallOptions(cancellationToken: ct), new StatBlobRequest { Digest = B3Digest.Empty.ToByteString() }).ResponseAsync,
                m => m.BlobPut,
                ct).ConfigureAwait(false);
            return _call;
        }
    }
}
