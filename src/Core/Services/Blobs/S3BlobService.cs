using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.S3;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// Blobs as S3 objects, <c>blobs/&lt;64 hex&gt;</c>, each written once, and beside each blob over 1 MiB its
/// outboard, <c>outboards/&lt;64 hex&gt;</c>, written before the blob so a blob found has one. An object
/// store is untrusted storage: a blob of one group is checked whole against its digest; a larger one is
/// read as ranged GETs of its 1 MiB groups, several ahead when read in order, each checked against the
/// outboard once that composes to the digest. A flipped byte is an error, never data.
/// </summary>
public sealed class S3BlobService(S3Bucket bucket) : IBlobService
{
    /// <summary>Groups fetched ahead of a reader that reads in order.</summary>
    private const int ReadAheadGroups = 4;

    public async Task<BlobStat?> StatAsync(B3Digest digest, BlobDetails details = BlobDetails.None, CancellationToken ct = default)
    {
        if (await bucket.LengthAsync(BlobKey(digest), ct).ConfigureAwait(false) is not { } size)
        {
            return null;
        }

        var outboard = details.HasFlag(BlobDetails.Outboard) && Outboard.GroupCount(size) > 1
            ? await bucket.GetAsync(OutboardKey(digest), ct).ConfigureAwait(false) ?? []
            : [];
        return new BlobStat(size, [], outboard);
    }

    /// <summary>One ranged GET of the first group says the blob's size and, for a blob of one group, is all of it.</summary>
    public async Task<Stream?> OpenReadAsync(B3Digest digest, CancellationToken ct = default)
    {
        if (await bucket.GetHeadAsync(BlobKey(digest), Outboard.GroupSize, ct).ConfigureAwait(false) is not var (head, size))
        {
            return null;
        }

        if (Outboard.GroupCount(size) == 1)
        {
            var actual = Blake3Hasher.Hash(head);
            return actual == digest && head.Length == size
                ? new MemoryStream(head, writable: false)
                : throw new BlobVerificationException(digest, actual, $"{bucket.Display}: blob {digest.ToHex()}");
        }

        var outboard = await bucket.GetAsync(OutboardKey(digest), ct).ConfigureAwait(false)
            ?? throw new BlobVerificationException(digest, $"{bucket.Display}: blob {digest.ToHex()} of {size} bytes has no outboard");
        var trusted = Outboard.Verify(digest, size, outboard)
            ?? throw new BlobVerificationException(digest, $"{bucket.Display}: blob {digest.ToHex()}: its outboard does not compose to its digest for {size} bytes");
        var stream = new VerifiedGroupStream(bucket.Display, digest, size, trusted, (index, group, token) => FillGroupAsync(digest, index, group, token), ReadAheadGroups);
        stream.AddFetched(0, head);
        return stream;
    }

    public IBlobWriter OpenWrite() => new S3BlobWriter(this);

    internal static string BlobKey(B3Digest digest) => "blobs/" + digest.ToHex();

    internal static string OutboardKey(B3Digest digest) => "outboards/" + digest.ToHex();

    /// <summary>
    /// Writes a finished blob from <paramref name="contents"/> (left open) unless the bucket has it: the
    /// outboard first, then the blob.
    /// </summary>
    internal async Task StoreAsync(B3Digest digest, byte[]? outboard, Stream contents, CancellationToken ct)
    {
        if (await bucket.LengthAsync(BlobKey(digest), ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        if (outboard is not null)
        {
            await bucket.PutAsync(OutboardKey(digest), outboard, ct).ConfigureAwait(false);
        }

        await bucket.PutAsync(BlobKey(digest), contents, ct).ConfigureAwait(false);
    }

    private async Task FillGroupAsync(B3Digest digest, long index, Memory<byte> group, CancellationToken ct)
    {
        int read = await bucket.ReadAsync(BlobKey(digest), index * Outboard.GroupSize, group, ct).ConfigureAwait(false);
        if (read != group.Length)
        {
            throw new BlobVerificationException(digest, $"{bucket.Display}: blob {digest.ToHex()}: group {index} has {read} of its {group.Length} bytes");
        }
    }
}
