using System.Runtime.CompilerServices;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>
/// Hashes a run of whole chunks as complete subtrees, many chunks and parents at once (the "wide"
/// strategy of the reference implementation), optionally splitting the two halves across threads.
/// </summary>
[SkipLocalsInit]
internal static unsafe class SubtreeHashing
{
    /// <summary>Below this many bytes a subtree is not worth a thread hop.</summary>
    private const long ParallelMinBytes = 128 * 1024;

    /// <summary>
    /// Complete subtrees up to this many chunks are hashed flat: every chunk in one run of wide calls, then
    /// the parents level by level. Recursing down to single calls instead leaves the hardware prefetcher
    /// behind between calls, and reads of memory far from the cache showed it (a 256 MiB input hashed a third
    /// slower than the same calls made back to back).
    /// </summary>
    private const int FlatChunks = 256;

    /// <summary>
    /// Compresses <paramref name="length"/> bytes (more than one chunk, a power-of-two number of chunks
    /// or a final partial one) into the two chaining values of its root's children (64 bytes).
    /// </summary>
    public static void ToParentNode(
        byte* input, long length, uint* key, ulong chunkCounter, uint flags, int degree, bool parallel, byte* parentBlock)
    {
        int width = Math.Max(degree, 2);
        byte* cvs = stackalloc byte[width * OutLen];
        byte* next = stackalloc byte[width * OutLen / 2];
        int count = Wide(input, length, key, chunkCounter, flags, degree, parallel, cvs);
        while (count > 2)
        {
            count = Parents(cvs, count, key, flags, degree, next);
            Buffer.MemoryCopy(next, cvs, width * OutLen, count * OutLen);
        }

        Buffer.MemoryCopy(cvs, parentBlock, BlockLen, BlockLen);
    }

    /// <summary>Returns how many chaining values (at most max(degree, 2)) were written to output.</summary>
    private static int Wide(
        byte* input, long length, uint* key, ulong chunkCounter, uint flags, int degree, bool parallel, byte* output)
    {
        if (length <= (long)degree * ChunkLen)
        {
            return Chunks(input, length, key, chunkCounter, flags, degree, output);
        }

        if (length <= (long)FlatChunks * ChunkLen && length % ChunkLen == 0 && long.IsPow2(length / ChunkLen))
        {
            return Flat(input, length, key, chunkCounter, flags, degree, output);
        }

        long leftLength = LeftLength(length);
        byte* right = input + leftLength;
        long rightLength = length - leftLength;
        ulong rightCounter = chunkCounter + (ulong)(leftLength / ChunkLen);

        // With one lane the leaves are single chunks; otherwise each side reports max(degree, 2) values.
        int leftCount = leftLength == ChunkLen ? 1 : Math.Max(degree, 2);
        byte* cvs = stackalloc byte[2 * Math.Max(degree, 2) * OutLen];
        byte* rightOut = cvs + (leftCount * OutLen);
        int rightCount;
        if (parallel && rightLength >= ParallelMinBytes)
        {
            nint l = (nint)input, r = (nint)right, k = (nint)key, lo = (nint)cvs, ro = (nint)rightOut;
            int rc = 0;
            Parallel.Invoke(
                () => Wide((byte*)l, leftLength, (uint*)k, chunkCounter, flags, degree, true, (byte*)lo),
                () => rc = Wide((byte*)r, rightLength, (uint*)k, rightCounter, flags, degree, true, (byte*)ro));
            rightCount = rc;
        }
        else
        {
            Wide(input, leftLength, key, chunkCounter, flags, degree, parallel, cvs);
            rightCount = Wide(right, rightLength, key, rightCounter, flags, degree, parallel, rightOut);
        }

        if (leftCount == 1)
        {
            Buffer.MemoryCopy(cvs, output, 2 * OutLen, 2 * OutLen);
            return 2;
        }

        return Parents(cvs, leftCount + rightCount, key, flags, degree, output);
    }

    /// <summary>
    /// A complete subtree of whole chunks: all their chaining values, then parents until max(degree, 2)
    /// remain. Pairing neighbours level by level builds the same tree as halving does, as the count is a
    /// power of two.
    /// </summary>
    private static int Flat(byte* input, long length, uint* key, ulong chunkCounter, uint flags, int degree, byte* output)
    {
        int width = Math.Max(degree, 2);
        byte* cvs = stackalloc byte[FlatChunks * OutLen];
        int count = Chunks(input, length, key, chunkCounter, flags, degree, cvs);
        while (count > width)
        {
            // Parents write below the pairs they read, so one buffer serves every level.
            count = Parents(cvs, count, key, flags, degree, cvs);
        }

        Buffer.MemoryCopy(cvs, output, width * OutLen, count * OutLen);
        return count;
    }

    private static int Chunks(byte* input, long length, uint* key, ulong chunkCounter, uint flags, int degree, byte* output)
    {
        int whole = (int)(length / ChunkLen);
        byte** inputs = stackalloc byte*[Math.Max(whole, 1)];
        for (int i = 0; i < whole; i++)
        {
            inputs[i] = input + ((long)i * ChunkLen);
        }

        Compression.HashMany(inputs, whole, ChunkLen / BlockLen, key, chunkCounter, true, flags, ChunkStart, ChunkEnd, output, degree);
        int rest = (int)(length - ((long)whole * ChunkLen));
        if (rest == 0)
        {
            return whole;
        }

        var chunk = new ChunkState(key, chunkCounter + (ulong)whole, flags);
        chunk.Update(new ReadOnlySpan<byte>(input + ((long)whole * ChunkLen), rest));
        chunk.Output().ChainingValue(output + (whole * OutLen));
        return whole + 1;
    }

    /// <summary>Pairs up chaining values into parents; an odd last one passes through.</summary>
    private static int Parents(byte* cvs, int count, uint* key, uint flags, int degree, byte* output)
    {
        int pairs = count / 2;
        byte** inputs = stackalloc byte*[Math.Max(pairs, 1)];
        for (int i = 0; i < pairs; i++)
        {
            inputs[i] = cvs + (i * BlockLen);
        }

        Compression.HashMany(inputs, pairs, 1, key, 0, false, flags | Parent, 0, 0, output, degree);
        if ((count & 1) == 0)
        {
            return pairs;
        }

        Buffer.MemoryCopy(cvs + (pairs * BlockLen), output + (pairs * OutLen), OutLen, OutLen);
        return pairs + 1;
    }

    /// <summary>The largest power-of-two number of whole chunks that leaves at least one byte on the right.</summary>
    private static long LeftLength(long length)
    {
        long fullChunks = (length - 1) / ChunkLen;
        return (1L << (63 - (int)long.LeadingZeroCount(fullChunks))) * ChunkLen;
    }
}
