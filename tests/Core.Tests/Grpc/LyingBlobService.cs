using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Server;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary>What a lying store says about one blob.</summary>
public enum BlobLie
{
    /// <summary>Bytes with one flipped, and a chunk list and outboard computed over those bytes: a lie that agrees with itself.</summary>
    CorruptedSelfConsistent,

    /// <summary>As <see cref="CorruptedSelfConsistent"/>, with no outboard (as tvix and snix servers send none).</summary>
    CorruptedWithoutOutboard,

    /// <summary>One byte flipped in the chunk that holds it; true chunk digests and outboard.</summary>
    CorruptedBytes,

    /// <summary>True bytes; the outboard with one byte flipped.</summary>
    WrongOutboard,

    /// <summary>True bytes; the outboard of another blob of the same size.</summary>
    OtherBlobsOutboard,

    /// <summary>True bytes; the outboard without its last pair.</summary>
    TruncatedOutboard,

    /// <summary>True bytes; the outboard with a pair too many.</summary>
    ExtendedOutboard,

    /// <summary>True bytes; chunk sizes one byte off, so they add up to another size.</summary>
    ChunkSizesOff,

    /// <summary>A chunk read sends one byte more than announced.</summary>
    ChunkLonger,

    /// <summary>A chunk read sends one byte less than announced.</summary>
    ChunkShorter,

    /// <summary>Stat and reads never answer.</summary>
    NeverAnswers,
}

/// <summary>
/// A blob service that tells one lie about one blob (<paramref name="target"/>) and the truth about every
/// other, for a real gRPC server to send to a real client. The truth must hold the target's chunk index
/// (an embedded store).
/// </summary>
public sealed class LyingBlobService(IBlobService truth, B3Digest target, BlobLie lie, byte[] other) : IBlobService
{
    /// <summary>Where the corrupted lies flip a byte: inside the third 1 MiB group.</summary>
    public const long FlippedAt = (2L << 20) + 12345;

    private readonly Dictionary<B3Digest, (long Offset, int Length)> _corruptChunks = [];
    private readonly Dictionary<B3Digest, long> _chunkOffsets = [];
    private byte[]? _corrupted;
    private BlobStat? _corruptedStat;

    public async Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default)
    {
        if (digest != target)
        {
            return await truth.StatAsync(digest, details, ct);
        }

        var real = (await truth.StatAsync(digest, BlobDetails.Chunks | BlobDetails.Outboard, ct))!;
        long offset = 0;
        foreach (var chunk in real.Chunks)
        {
            _chunkOffsets[chunk.Digest] = offset;
            offset += (long)chunk.Size;
        }

        var outboard = real.Outboard.ToArray();
        switch (lie)
        {
            case BlobLie.NeverAnswers:
                await Task.Delay(Timeout.Infinite, ct);
                return null;
            case BlobLie.CorruptedSelfConsistent or BlobLie.CorruptedWithoutOutboard when _corruptedStat is { } known:
                return known;
            case BlobLie.CorruptedSelfConsistent or BlobLie.CorruptedWithoutOutboard:
                var bytes = await CorruptedAsync(ct);
                var chunks = new List<ChunkMeta>();
                for (long at = 0; at < bytes.Length; at += Outboard.GroupSize)
                {
                    int length = Outboard.GroupLength(bytes.Length, at / Outboard.GroupSize);
                    var chunk = new ChunkMeta(Blake3Hasher.Hash(bytes.AsSpan((int)at, length)), (ulong)length);
                    _corruptChunks[chunk.Digest] = (at, length);
                    chunks.Add(chunk);
                }

                _corruptedStat = new BlobStat(bytes.Length, chunks, lie == BlobLie.CorruptedSelfConsistent ? OutboardOf(bytes) : ReadOnlyMemory<byte>.Empty);
                return _corruptedStat;
            case BlobLie.WrongOutboard:
                outboard[^1] ^= 0x40;
                return real with { Outboard = outboard };
            case BlobLie.OtherBlobsOutboard:
                return real with { Outboard = OutboardOf(other) };
            case BlobLie.TruncatedOutboard:
                return real with { Outboard = outboard.AsMemory(0, outboard.Length - 64) };
            case BlobLie.ExtendedOutboard:
                return real with { Outboard = outboard.Concat(outboard[..64]).ToArray() };
            case BlobLie.ChunkSizesOff:
                return real with { Chunks = [.. real.Chunks.Select((c, i) => i == 0 ? c with { Size = c.Size - 1 } : i == 1 ? c with { Size = c.Size + 2 } : c)] };
            default:
                return real;
        }
    }

    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        if (lie == BlobLie.NeverAnswers && (digest == target || _chunkOffsets.ContainsKey(digest)))
        {
            await Task.Delay(Timeout.Infinite, ct);
        }

        if (lie is BlobLie.CorruptedBytes or BlobLie.CorruptedSelfConsistent or BlobLie.CorruptedWithoutOutboard)
        {
            if (digest == target)
            {
                return new MemoryStream(await CorruptedAsync(ct), writable: false);
            }

            if (_corruptChunks.TryGetValue(digest, out var range))
            {
                return new MemoryStream(await CorruptedAsync(ct), (int)range.Offset, range.Length, writable: false);
            }

            if (lie == BlobLie.CorruptedBytes && _chunkOffsets.TryGetValue(digest, out long start))
            {
                var data = (await truth.ReadAllAsync(digest, ct))!;
                if (FlippedAt >= start && FlippedAt < start + data.Length)
                {
                    data[FlippedAt - start] ^= 0x01;
                }

                return new MemoryStream(data, writable: false);
            }
        }

        if (lie is BlobLie.ChunkLonger or BlobLie.ChunkShorter && _chunkOffsets.ContainsKey(digest))
        {
            var data = (await truth.ReadAllAsync(digest, ct))!;
            return new MemoryStream(lie == BlobLie.ChunkLonger ? [.. data, 0] : data[..^1], writable: false);
        }

        return await truth.OpenReadAsync(digest, ct);
    }

    public IBlobWriter OpenWrite() => truth.OpenWrite();

    private static byte[] OutboardOf(byte[] data)
    {
        long groups = Outboard.GroupCount(data.Length);
        var cvs = new byte[groups * 32];
        for (long i = 0; i < groups; i++)
        {
            Outboard.GroupChainingValue(data.AsSpan((int)(i * Outboard.GroupSize), Outboard.GroupLength(data.Length, i)), i, cvs.AsSpan((int)(i * 32), 32));
        }

        return Outboard.Create(cvs, out _);
    }

    private async Task<byte[]> CorruptedAsync(CancellationToken ct)
    {
        if (_corrupted is null)
        {
            var data = (await truth.ReadAllAsync(target, ct))!;
            data[FlippedAt] ^= 0x01;
            _corrupted = data;
        }

        return _corrupted;
    }
}

/// <summary>
/// A real gRPC server over an embedded store whose blob service tells <see cref="Lie"/> about one blob of
/// <see cref="Size"/> bytes (the path info <see cref="LiedAbout"/>), and the truth about another
/// (<see cref="Intact"/>).
/// </summary>
public sealed record LyingServer(CastoreStore Store, CastoreServer Server, BlobLie Lie, B3Digest Digest, byte[] Truth, byte[] IntactBytes) : IAsyncDisposable
{
    public const int Size = (5 << 20) + 7;
    public const string LiedAbout = "77777777777777777777777777777777-lied-about";
    public const string Intact = "88888888888888888888888888888888-intact";

    public static async Task<LyingServer> StartAsync(TempDirectory dir, BlobLie lie)
    {
        var embedded = CastoreStore.Open(dir.Combine("store"));
        var truth = new byte[Size];
        new Random(1).NextBytes(truth);
        var other = new byte[Size];
        new Random(2).NextBytes(other);
        var intact = new byte[(3 << 20) + 1];
        new Random(3).NextBytes(intact);
        foreach (var (name, bytes) in new[] { (LiedAbout, truth), (Intact, intact) })
        {
            var blob = await embedded.Blobs.PutAsync(bytes);
            await embedded.PathInfos.PutAsync(new PathInfo
            {
                Node = new Node { File = new FileNode { Name = ByteString.CopyFromUtf8(name), Digest = blob.ToByteString(), Size = (ulong)bytes.Length } },
            });
        }

        var digest = Blake3Hasher.Hash(truth);
        var served = new CastoreStore(new LyingBlobService(embedded.Blobs, digest, lie, other), embedded.Directories, embedded.PathInfos);
        var server = await CastoreServer.StartAsync(served, "unix://" + dir.Combine("s.sock"));
        return new LyingServer(embedded, server, lie, digest, truth, intact);
    }

    /// <summary>The client's store URL: a short timeout for a server that never answers.</summary>
    public string Url => Server.Address + (Lie == BlobLie.NeverAnswers ? "?timeout=1" : string.Empty);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Store.Dispose();
    }
}
