using CastoreFs.Core.Digests;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>
/// A blob's BLAKE3 tree above its 1 MiB groups, as bao-tree's pre-order outboard at chunk log 10 stores
/// it: for each parent, parents before their children, its left and right chaining values (64 bytes),
/// and no size header. With the blob's digest and size, any one group can be checked on its own, so a
/// reader trusts nothing a store says but the digest that named the blob (docs/verified-streaming.md).
/// </summary>
public static class Outboard
{
    /// <summary>1024 BLAKE3 chunks: every group at a multiple of this offset is a subtree of the blob's tree.</summary>
    public const int GroupSize = 1 << 20;

    private const int ChunksPerGroup = GroupSize / ChunkLen;
    private const int PairLength = 2 * OutLen;

    /// <summary>Groups of a blob of <paramref name="size"/> bytes; the empty blob is one empty group.</summary>
    public static long GroupCount(long size) => Math.Max(1, (size + GroupSize - 1) / GroupSize);

    /// <summary>The outboard's length: 64 bytes per parent, none for a blob of one group.</summary>
    public static long Length(long size) => PairLength * (GroupCount(size) - 1);

    /// <summary>Bytes in group <paramref name="index"/>: 1 MiB, except the last.</summary>
    public static int GroupLength(long size, long index) => (int)Math.Min(GroupSize, size - (index * GroupSize));

    /// <summary>
    /// Group <paramref name="index"/>'s chaining value: its bytes hashed as a subtree whose chunks count
    /// from 1024 × <paramref name="index"/>, without ROOT. It is not the group's own BLAKE3 digest.
    /// </summary>
    public static void GroupChainingValue(ReadOnlySpan<byte> group, long index, Span<byte> chainingValue)
    {
        if (group.IsEmpty || group.Length > GroupSize)
        {
            throw new ArgumentException($"a group holds 1 to {GroupSize} bytes, not {group.Length}", nameof(group));
        }

        var hasher = Blake3Hasher.ForSubtree((ulong)index * ChunksPerGroup);
        hasher.Update(group);
        hasher.FinalizeNonRoot(chainingValue);
    }

    /// <summary>
    /// The outboard over two or more groups' chaining values (32 bytes each, in order), and the digest
    /// they compose to, which is the blob's digest when the values are right.
    /// </summary>
    public static byte[] Create(ReadOnlySpan<byte> groupChainingValues, out B3Digest digest)
    {
        int groups = groupChainingValues.Length / OutLen;
        if (groups < 2 || groupChainingValues.Length % OutLen != 0)
        {
            throw new ArgumentException("an outboard needs the chaining values of two or more groups", nameof(groupChainingValues));
        }

        var outboard = new byte[PairLength * (groups - 1)];
        int cursor = 0;
        Span<byte> root = stackalloc byte[OutLen];
        Build(groupChainingValues, 0, groups, outboard, ref cursor, isRoot: true, root);
        digest = new B3Digest(root);
        return outboard;
    }

    /// <summary>
    /// Checks that <paramref name="outboard"/> composes to <paramref name="digest"/> for a blob of
    /// <paramref name="size"/> bytes and returns each group's trusted chaining value (32 bytes per group),
    /// or null when it does not. One group (1 MiB or less) has no outboard: its bytes are checked against
    /// the digest itself. The size is proven only once the last group has matched.
    /// </summary>
    public static byte[]? Verify(B3Digest digest, long size, ReadOnlySpan<byte> outboard)
    {
        long groups = GroupCount(size);
        if (groups < 2 || outboard.Length != Length(size))
        {
            return null;
        }

        var trusted = new byte[checked(groups * OutLen)];
        int cursor = 0;
        return Walk(outboard, ref cursor, 0, groups, digest.Span, isRoot: true, trusted) && cursor == outboard.Length ? trusted : null;
    }

    /// <summary>Whether a group's bytes match its trusted chaining value (from <see cref="Verify"/>).</summary>
    public static bool GroupMatches(ReadOnlySpan<byte> group, long index, ReadOnlySpan<byte> trusted)
    {
        if (group.IsEmpty || group.Length > GroupSize)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[OutLen];
        GroupChainingValue(group, index, actual);
        return actual.SequenceEqual(trusted.Slice((int)(index * OutLen), OutLen));
    }

    /// <summary>A parent's chaining value, or the blob's digest at the root (its first 32 output bytes).</summary>
    internal static unsafe void Parent(ReadOnlySpan<byte> pair, bool isRoot, Span<byte> output)
    {
        uint* key = stackalloc uint[8];
        WriteIv(key);
        fixed (byte* block = pair)
        fixed (byte* destination = output)
        {
            var node = Output.ForParent(block, key, 0);
            if (isRoot)
            {
                node.RootBytes(0, output[..OutLen]);
            }
            else
            {
                node.ChainingValue(destination);
            }
        }
    }

    /// <summary>The largest power of two below <paramref name="groups"/>: BLAKE3's left subtree, counted in groups.</summary>
    private static long LeftGroups(long groups) => 1L << (63 - (int)long.LeadingZeroCount(groups - 1));

    /// <summary>Writes the subtree's pairs in pre-order and returns its chaining value; depth is log2 of the groups.</summary>
    private static void Build(ReadOnlySpan<byte> cvs, long first, long count, byte[] outboard, ref int cursor, bool isRoot, Span<byte> output)
    {
        if (count == 1)
        {
            cvs.Slice((int)(first * OutLen), OutLen).CopyTo(output);
            return;
        }

        var pair = outboard.AsSpan(cursor, PairLength);
        cursor += PairLength;
        long left = LeftGroups(count);
        Build(cvs, first, left, outboard, ref cursor, isRoot: false, pair[..OutLen]);
        Build(cvs, first + left, count - left, outboard, ref cursor, isRoot: false, pair[OutLen..]);
        Parent(pair, isRoot, output);
    }

    private static bool Walk(ReadOnlySpan<byte> outboard, ref int cursor, long first, long count, ReadOnlySpan<byte> expected, bool isRoot, byte[] trusted)
    {
        if (count == 1)
        {
            expected.CopyTo(trusted.AsSpan((int)(first * OutLen), OutLen));
            return true;
        }

        var pair = outboard.Slice(cursor, PairLength);
        cursor += PairLength;
        Span<byte> actual = stackalloc byte[OutLen];
        Parent(pair, isRoot, actual);
        if (!actual.SequenceEqual(expected))
        {
            return false;
        }

        long left = LeftGroups(count);
        return Walk(outboard, ref cursor, first, left, pair[..OutLen], isRoot: false, trusted)
            && Walk(outboard, ref cursor, first + left, count - left, pair[OutLen..], isRoot: false, trusted);
    }
}
