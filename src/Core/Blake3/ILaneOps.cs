namespace CastoreFs.Core.Blake3;

/// <summary>
/// The operations the compression kernel needs on a vector of independent 32-bit lanes, one lane per
/// input. The kernel is written once against this interface and specialised by the JIT per width.
/// </summary>
internal unsafe interface ILaneOps<TVec> where TVec : unmanaged
{
    static abstract int Lanes { get; }
    static abstract TVec Splat(uint value);
    static abstract TVec Load(uint* lanes);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Xor(TVec a, TVec b);
    static abstract TVec RotateRight16(TVec x);
    static abstract TVec RotateRight12(TVec x);
    static abstract TVec RotateRight8(TVec x);
    static abstract TVec RotateRight7(TVec x);

    /// <summary>
    /// Loads one 64-byte block from each input, transposed so that m[w] holds word w of every input, and
    /// prefetches each input <paramref name="prefetchAhead"/> bytes further on.
    /// </summary>
    static abstract void LoadBlockTransposed(byte** inputs, nint blockOffset, nint prefetchAhead, TVec* m);

    /// <summary>Writes the eight words <paramref name="h"/> holds for each lane as that lane's 32-byte chaining value, lane after lane.</summary>
    static abstract void StoreChainingValues(TVec* h, byte* output);
}
