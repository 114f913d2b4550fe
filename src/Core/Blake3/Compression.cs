using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>
/// The BLAKE3 compression function, written once over <see cref="ILaneOps{TVec}"/> and run on 1, 8 or 16
/// independent inputs at a time.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Compression
{
    /// <summary>
    /// How far ahead of the block being compressed each input is prefetched. Every call starts as many
    /// new streams as it has lanes, more than the hardware prefetcher picks up in time: without this, 64 KiB
    /// inputs out of cache hashed 1.7x slower. Three blocks ahead was the fastest of 1 to 6 measured.
    /// </summary>
    private const int PrefetchAhead = 3 * BlockLen;

    /// <summary>The widest lane count this CPU runs.</summary>
    public static readonly int MaxDegree = Avx512Lanes.IsSupported ? 16 : Avx2Lanes.IsSupported ? 8 : 1;

    /// <summary>
    /// Hashes <paramref name="count"/> inputs of <paramref name="blocks"/> whole blocks each, writing one
    /// 32-byte chaining value per input. Chunks use CHUNK_START/CHUNK_END and an incrementing counter;
    /// parents use one block, the PARENT flag and counter 0.
    /// </summary>
    public static void HashMany(
        byte** inputs, int count, int blocks, uint* key, ulong counter, bool incrementCounter,
        uint flags, uint flagsStart, uint flagsEnd, byte* output, int degree)
    {
        while (degree >= 16 && count >= 16)
        {
            HashLanes<Avx512Lanes, Vector512<uint>>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, output);
            Advance(16, ref inputs, ref count, ref counter, incrementCounter, ref output);
        }

        // A few inputs left over still go through a vector: its idle lanes cost less than one lane at a time.
        if (degree >= 16 && count > 8)
        {
            HashPadded<Avx512Lanes, Vector512<uint>>(inputs, count, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, output);
            return;
        }

        while (degree >= 8 && count >= 8)
        {
            HashLanes<Avx2Lanes, Vector256<uint>>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, output);
            Advance(8, ref inputs, ref count, ref counter, incrementCounter, ref output);
        }

        if (degree >= 8 && count > 1)
        {
            HashPadded<Avx2Lanes, Vector256<uint>>(inputs, count, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, output);
            return;
        }

        while (count > 0)
        {
            HashLanes<ScalarLanes, uint>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, output);
            Advance(1, ref inputs, ref count, ref counter, incrementCounter, ref output);
        }
    }

    /// <summary>Fewer inputs than lanes: the idle lanes repeat the first input and their output is dropped.</summary>
    private static void HashPadded<TOps, TVec>(
        byte** inputs, int count, int blocks, uint* key, ulong counter, bool incrementCounter,
        uint flags, uint flagsStart, uint flagsEnd, byte* output)
        where TOps : struct, ILaneOps<TVec>
        where TVec : unmanaged
    {
        int lanes = TOps.Lanes;
        byte** padded = stackalloc byte*[lanes];
        byte* outputs = stackalloc byte[lanes * OutLen];
        for (int i = 0; i < lanes; i++)
        {
            padded[i] = inputs[i < count ? i : 0];
        }

        HashLanes<TOps, TVec>(padded, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, outputs);
        Buffer.MemoryCopy(outputs, output, count * OutLen, count * OutLen);
    }

    private static void Advance(int n, ref byte** inputs, ref int count, ref ulong counter, bool incrementCounter, ref byte* output)
    {
        inputs += n;
        count -= n;
        output += n * OutLen;
        if (incrementCounter)
        {
            counter += (ulong)n;
        }
    }

    /// <summary>
    /// One compression of a single block, returning all 16 state words: words 0..7 are the chaining value,
    /// 8..15 the second half of an extended (XOF) output block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CompressBlock(uint* cv, byte* block, uint blockLen, ulong counter, uint flags, uint* out16)
    {
        if (RowCompression.IsSupported)
        {
            RowCompression.CompressBlock(cv, block, blockLen, counter, flags, out16);
            return;
        }

        uint* m = stackalloc uint[16];
        ScalarLanes.LoadBlockTransposed(&block, 0, 0, m);
        uint* v = stackalloc uint[16];
        for (int i = 0; i < 8; i++)
        {
            v[i] = cv[i];
        }

        v[8] = Iv0; v[9] = Iv1; v[10] = Iv2; v[11] = Iv3;
        v[12] = (uint)counter; v[13] = (uint)(counter >> 32); v[14] = blockLen; v[15] = flags;
        CompressState<ScalarLanes, uint>(v, m, chainingValueOnly: false);
        for (int i = 0; i < 8; i++)
        {
            out16[i] = v[i] ^ v[i + 8];
            out16[i + 8] = v[i + 8] ^ cv[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HashLanes<TOps, TVec>(
        byte** inputs, int blocks, uint* key, ulong counter, bool incrementCounter,
        uint flags, uint flagsStart, uint flagsEnd, byte* output)
        where TOps : struct, ILaneOps<TVec>
        where TVec : unmanaged
    {
        int lanes = TOps.Lanes;
        uint* counterWords = stackalloc uint[2 * lanes];
        for (int i = 0; i < lanes; i++)
        {
            ulong c = counter + (incrementCounter ? (ulong)i : 0);
            counterWords[i] = (uint)c;
            counterWords[lanes + i] = (uint)(c >> 32);
        }

        // The chaining value lives in state[0..7] across blocks: the kernel reads the whole state and writes
        // back only the next chaining value, so a block costs no other round trip through memory.
        TVec counterLow = TOps.Load(counterWords), counterHigh = TOps.Load(counterWords + lanes);
        TVec* m = stackalloc TVec[16];
        TVec* state = stackalloc TVec[16];
        for (int i = 0; i < 8; i++)
        {
            state[i] = TOps.Splat(key[i]);
        }

        TVec iv0 = TOps.Splat(Iv0), iv1 = TOps.Splat(Iv1), iv2 = TOps.Splat(Iv2), iv3 = TOps.Splat(Iv3);
        TVec blockLength = TOps.Splat(BlockLen);
        uint blockFlags = flags | flagsStart;
        for (int b = 0; b < blocks; b++)
        {
            if (b == blocks - 1)
            {
                blockFlags |= flagsEnd;
            }

            TOps.LoadBlockTransposed(inputs, (nint)b * BlockLen, PrefetchAhead, m);
            state[8] = iv0; state[9] = iv1; state[10] = iv2; state[11] = iv3;
            state[12] = counterLow; state[13] = counterHigh; state[14] = blockLength; state[15] = TOps.Splat(blockFlags);
            CompressState<TOps, TVec>(state, m, chainingValueOnly: true);
            blockFlags = flags;
        }

        TOps.StoreChainingValues(state, output);
    }

    /// <summary>
    /// Runs the seven rounds on <paramref name="state"/> (16 words: chaining value, IV, counter, length,
    /// flags) with message <paramref name="m"/>, in place; with <paramref name="chainingValueOnly"/> only
    /// state[0..7] is written, with the next chaining value. Everything stays in plain locals: a ref or an
    /// array would pin the state to memory and cost several times the speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CompressState<T, TVec>(TVec* state, TVec* m, bool chainingValueOnly)
        where T : struct, ILaneOps<TVec>
        where TVec : unmanaged
    {
        TVec v0 = state[0], v1 = state[1], v2 = state[2], v3 = state[3], v4 = state[4], v5 = state[5], v6 = state[6], v7 = state[7];
        TVec v8 = state[8], v9 = state[9], v10 = state[10], v11 = state[11], v12 = state[12], v13 = state[13], v14 = state[14], v15 = state[15];
        TVec m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7];
        TVec m8 = m[8], m9 = m[9], m10 = m[10], m11 = m[11], m12 = m[12], m13 = m[13], m14 = m[14], m15 = m[15];

        // Columns then diagonals, seven times; each round reads the message words in the permuted schedule.
        // Round 0: message words 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15.
        v0 = T.Add(T.Add(v0, v4), m0); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m1); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m2); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m3); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m4); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m5); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m6); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m7); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m8); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m9); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m10); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m11); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m12); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m13); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m14); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m15); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 1: message words 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8.
        v0 = T.Add(T.Add(v0, v4), m2); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m6); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m3); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m10); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m7); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m0); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m4); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m13); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m1); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m11); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m12); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m5); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m9); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m14); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m15); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m8); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 2: message words 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1.
        v0 = T.Add(T.Add(v0, v4), m3); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m4); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m10); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m12); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m13); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m2); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m7); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m14); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m6); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m5); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m9); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m0); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m11); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m15); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m8); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m1); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 3: message words 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6.
        v0 = T.Add(T.Add(v0, v4), m10); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m7); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m12); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m9); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m14); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m3); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m13); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m15); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m4); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m0); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m11); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m2); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m5); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m8); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m1); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m6); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 4: message words 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4.
        v0 = T.Add(T.Add(v0, v4), m12); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m13); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m9); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m11); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m15); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m10); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m14); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m8); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m7); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m2); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m5); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m3); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m0); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m1); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m6); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m4); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 5: message words 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7.
        v0 = T.Add(T.Add(v0, v4), m9); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m14); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m11); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m5); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m8); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m12); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m15); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m1); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m13); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m3); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m0); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m10); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m2); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m6); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m4); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m7); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));
        // Round 6: message words 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13.
        v0 = T.Add(T.Add(v0, v4), m11); v12 = T.RotateRight16(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight12(T.Xor(v4, v8));
        v0 = T.Add(T.Add(v0, v4), m15); v12 = T.RotateRight8(T.Xor(v12, v0)); v8 = T.Add(v8, v12); v4 = T.RotateRight7(T.Xor(v4, v8));
        v1 = T.Add(T.Add(v1, v5), m5); v13 = T.RotateRight16(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight12(T.Xor(v5, v9));
        v1 = T.Add(T.Add(v1, v5), m0); v13 = T.RotateRight8(T.Xor(v13, v1)); v9 = T.Add(v9, v13); v5 = T.RotateRight7(T.Xor(v5, v9));
        v2 = T.Add(T.Add(v2, v6), m1); v14 = T.RotateRight16(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight12(T.Xor(v6, v10));
        v2 = T.Add(T.Add(v2, v6), m9); v14 = T.RotateRight8(T.Xor(v14, v2)); v10 = T.Add(v10, v14); v6 = T.RotateRight7(T.Xor(v6, v10));
        v3 = T.Add(T.Add(v3, v7), m8); v15 = T.RotateRight16(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight12(T.Xor(v7, v11));
        v3 = T.Add(T.Add(v3, v7), m6); v15 = T.RotateRight8(T.Xor(v15, v3)); v11 = T.Add(v11, v15); v7 = T.RotateRight7(T.Xor(v7, v11));
        v0 = T.Add(T.Add(v0, v5), m14); v15 = T.RotateRight16(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight12(T.Xor(v5, v10));
        v0 = T.Add(T.Add(v0, v5), m10); v15 = T.RotateRight8(T.Xor(v15, v0)); v10 = T.Add(v10, v15); v5 = T.RotateRight7(T.Xor(v5, v10));
        v1 = T.Add(T.Add(v1, v6), m2); v12 = T.RotateRight16(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight12(T.Xor(v6, v11));
        v1 = T.Add(T.Add(v1, v6), m12); v12 = T.RotateRight8(T.Xor(v12, v1)); v11 = T.Add(v11, v12); v6 = T.RotateRight7(T.Xor(v6, v11));
        v2 = T.Add(T.Add(v2, v7), m3); v13 = T.RotateRight16(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight12(T.Xor(v7, v8));
        v2 = T.Add(T.Add(v2, v7), m4); v13 = T.RotateRight8(T.Xor(v13, v2)); v8 = T.Add(v8, v13); v7 = T.RotateRight7(T.Xor(v7, v8));
        v3 = T.Add(T.Add(v3, v4), m7); v14 = T.RotateRight16(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight12(T.Xor(v4, v9));
        v3 = T.Add(T.Add(v3, v4), m13); v14 = T.RotateRight8(T.Xor(v14, v3)); v9 = T.Add(v9, v14); v4 = T.RotateRight7(T.Xor(v4, v9));

        if (chainingValueOnly)
        {
            state[0] = T.Xor(v0, v8); state[1] = T.Xor(v1, v9); state[2] = T.Xor(v2, v10); state[3] = T.Xor(v3, v11);
            state[4] = T.Xor(v4, v12); state[5] = T.Xor(v5, v13); state[6] = T.Xor(v6, v14); state[7] = T.Xor(v7, v15);
            return;
        }

        state[0] = v0; state[1] = v1; state[2] = v2; state[3] = v3; state[4] = v4; state[5] = v5; state[6] = v6; state[7] = v7;
        state[8] = v8; state[9] = v9; state[10] = v10; state[11] = v11; state[12] = v12; state[13] = v13; state[14] = v14; state[15] = v15;
    }
}
