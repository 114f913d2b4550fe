using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using CastoreFs.Core.Digests;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>
/// Incremental BLAKE3 (hash, keyed hash, derive key; any output length). Large updates are hashed as
/// whole subtrees many chunks at a time with SIMD, and across threads with <see cref="UpdateParallel"/>.
/// </summary>
public sealed unsafe class Blake3Hasher
{
    // 2^54 chunks of 1 KiB exceed any u64 input length, so the stack never holds more entries.
    private const int MaxDepth = 54;

    private readonly uint[] _key = new uint[8];
    private readonly byte[] _cvStack = new byte[MaxDepth * OutLen];
    private readonly uint _flags;
    private readonly int _degree;

    /// <summary>The chunk counter of the first input byte: 0 for a whole input, more for a subtree inside one.</summary>
    private readonly ulong _firstChunk;
    private int _cvStackLength;
    private ChunkState _chunk;

    public Blake3Hasher()
        : this(null, 0, Compression.MaxDegree)
    {
    }

    internal Blake3Hasher(ReadOnlySpan<byte> key, uint flags, int degree, ulong firstChunk = 0)
    {
        if (key.IsEmpty)
        {
            fixed (uint* k = _key)
            {
                WriteIv(k);
            }
        }
        else
        {
            for (int i = 0; i < 8; i++)
            {
                _key[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(i * 4)..]);
            }
        }

        _flags = flags;
        _degree = Math.Min(degree, Compression.MaxDegree);
        _firstChunk = firstChunk;
        fixed (uint* k = _key)
        {
            _chunk = new ChunkState(k, firstChunk, flags);
        }
    }

    /// <summary>A hasher in keyed mode; the key is exactly 32 bytes.</summary>
    public static Blake3Hasher NewKeyed(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLen)
        {
            throw new ArgumentException($"a BLAKE3 key is {KeyLen} bytes, not {key.Length}", nameof(key));
        }

        return new Blake3Hasher(key, KeyedHash, Compression.MaxDegree);
    }

    /// <summary>A hasher in key derivation mode for a hard-coded, application-specific context string.</summary>
    public static Blake3Hasher NewDeriveKey(string context)
    {
        var contextHasher = new Blake3Hasher(null, DeriveKeyContext, Compression.MaxDegree);
        contextHasher.Update(Encoding.UTF8.GetBytes(context));
        Span<byte> contextKey = stackalloc byte[KeyLen];
        contextHasher.Finalize(contextKey);
        return new Blake3Hasher(contextKey, DeriveKeyMaterial, Compression.MaxDegree);
    }

    /// <summary>The BLAKE3 digest of <paramref name="data"/>, on this thread.</summary>
    public static B3Digest Hash(ReadOnlySpan<byte> data)
    {
        var hasher = new Blake3Hasher();
        hasher.Update(data);
        return hasher.FinalizeDigest();
    }

    /// <summary>The BLAKE3 digest of <paramref name="data"/>, using every core for large inputs.</summary>
    public static B3Digest HashParallel(ReadOnlySpan<byte> data)
    {
        var hasher = new Blake3Hasher();
        hasher.UpdateParallel(data);
        return hasher.FinalizeDigest();
    }

    public Blake3Hasher Update(ReadOnlySpan<byte> input) => Update(input, parallel: false);

    public Blake3Hasher UpdateParallel(ReadOnlySpan<byte> input) => Update(input, parallel: true);

    public B3Digest FinalizeDigest()
    {
        Span<byte> digest = stackalloc byte[OutLen];
        Finalize(digest);
        return new B3Digest(digest);
    }

    /// <summary>
    /// A hasher for the subtree of an input that starts at chunk <paramref name="firstChunk"/> (byte
    /// offset 1024 × <paramref name="firstChunk"/>), to be finished with <see cref="FinalizeNonRoot"/>. The
    /// subtree must be one of the input's tree: it may hold at most 2^(trailing zeros of
    /// <paramref name="firstChunk"/>) chunks, as a 1 MiB group at a 1 MiB boundary does.
    /// </summary>
    internal static Blake3Hasher ForSubtree(ulong firstChunk) => new(null, 0, Compression.MaxDegree, firstChunk);

    /// <summary>
    /// The chaining value of the input seen so far as a subtree (its root node's output without ROOT): what
    /// a parent above it combines. Not a digest; there is none of an empty subtree.
    /// </summary>
    internal void FinalizeNonRoot(Span<byte> chainingValue)
    {
        if (_cvStackLength == 0 && _chunk.Length == 0)
        {
            throw new InvalidOperationException("an empty subtree has no chaining value");
        }

        if (chainingValue.Length != OutLen)
        {
            throw new ArgumentException($"a chaining value is {OutLen} bytes", nameof(chainingValue));
        }

        fixed (byte* cv = chainingValue)
        {
            FinalOutput().ChainingValue(cv);
        }
    }

    /// <summary>Writes output bytes; any length (extended output). The hasher may keep taking input.</summary>
    public void Finalize(Span<byte> output) => FinalOutput().RootBytes(0, output);

    /// <summary>Writes extended output starting at <paramref name="position"/>.</summary>
    public void FinalizeSeek(ulong position, Span<byte> output) => FinalOutput().RootBytes(position, output);

    private Blake3Hasher Update(ReadOnlySpan<byte> input, bool parallel)
    {
        fixed (uint* key = _key)
        fixed (byte* start = input)
        {
            byte* p = start;
            long left = input.Length;
            byte* cv = stackalloc byte[OutLen];
            byte* pair = stackalloc byte[BlockLen];

            // Finish a partial chunk first; it is known not to be the root once more input follows it.
            if (_chunk.Length > 0)
            {
                int take = (int)Math.Min(ChunkLen - _chunk.Length, left);
                _chunk.Update(new ReadOnlySpan<byte>(p, take));
                p += take;
                left -= take;
                if (left == 0)
                {
                    return this;
                }

                _chunk.Output().ChainingValue(cv);
                PushChainingValue(cv, ChunksSoFar, key);
                _chunk = new ChunkState(key, _chunk.ChunkCounter + 1, _flags);
            }

            // Whole subtrees, each as large as both the remaining input and the alignment allow.
            while (left > ChunkLen)
            {
                long subtree = 1L << (63 - BitOperations.LeadingZeroCount((ulong)left));
                ulong bytesSoFar = ChunksSoFar * ChunkLen;
                while (((ulong)(subtree - 1) & bytesSoFar) != 0)
                {
                    subtree /= 2;
                }

                ulong subtreeChunks = (ulong)(subtree / ChunkLen);
                if (subtree <= ChunkLen)
                {
                    var single = new ChunkState(key, _chunk.ChunkCounter, _flags);
                    single.Update(new ReadOnlySpan<byte>(p, (int)subtree));
                    single.Output().ChainingValue(cv);
                    PushChainingValue(cv, ChunksSoFar, key);
                }
                else
                {
                    SubtreeHashing.ToParentNode(p, subtree, key, _chunk.ChunkCounter, _flags, _degree, parallel, pair);
                    PushChainingValue(pair, ChunksSoFar, key);
                    PushChainingValue(pair + OutLen, ChunksSoFar + (subtreeChunks / 2), key);
                }

                _chunk = new ChunkState(key, _chunk.ChunkCounter + subtreeChunks, _flags);
                p += subtree;
                left -= subtree;
            }

            if (left > 0)
            {
                _chunk.Update(new ReadOnlySpan<byte>(p, (int)left));

                // The chunk state now holds input, so nothing on the stack can be the root: merge eagerly.
                MergeStack(ChunksSoFar, key);
            }
        }

        return this;
    }

    /// <summary>Whole chunks before the chunk state: the stack's shape follows this count, not the counter.</summary>
    private ulong ChunksSoFar => _chunk.ChunkCounter - _firstChunk;

    /// <summary>Merges completed subtrees until the stack holds one entry per set bit of the chunk count.</summary>
    private void MergeStack(ulong totalChunks, uint* key)
    {
        int target = BitOperations.PopCount(totalChunks);
        fixed (byte* stack = _cvStack)
        {
            while (_cvStackLength > target)
            {
                byte* pair = stack + ((_cvStackLength - 2) * OutLen);
                Output.ForParent(pair, key, _flags).ChainingValue(pair);
                _cvStackLength--;
            }
        }
    }

    private void PushChainingValue(byte* cv, ulong chunkCounter, uint* key)
    {
        MergeStack(chunkCounter, key);
        new ReadOnlySpan<byte>(cv, OutLen).CopyTo(_cvStack.AsSpan(_cvStackLength * OutLen, OutLen));
        _cvStackLength++;
    }

    private Output FinalOutput()
    {
        fixed (uint* key = _key)
        fixed (byte* stack = _cvStack)
        {
            if (_cvStackLength == 0)
            {
                return _chunk.Output();
            }

            // With bytes in the chunk state the stack is already merged; otherwise its top two entries
            // are the root's children.
            Output output;
            int remaining = _cvStackLength;
            if (_chunk.Length > 0)
            {
                output = _chunk.Output();
            }
            else
            {
                output = Output.ForParent(stack + ((remaining - 2) * OutLen), key, _flags);
                remaining -= 2;
            }

            byte* block = stackalloc byte[BlockLen];
            while (remaining > 0)
            {
                Buffer.MemoryCopy(stack + ((remaining - 1) * OutLen), block, OutLen, OutLen);
                output.ChainingValue(block + OutLen);
                output = Output.ForParent(block, key, _flags);
                remaining--;
            }

            return output;
        }
    }
}
