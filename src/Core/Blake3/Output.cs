using System.Buffers.Binary;
using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>A node's last compression, not yet run: as a chaining value, or as the root's extended output.</summary>
internal unsafe struct Output
{
    private fixed uint _cv[8];
    private fixed byte _block[BlockLen];
    private readonly uint _blockLength;
    private readonly ulong _counter;
    private readonly uint _flags;

    public Output(uint* cv, byte* block, uint blockLength, ulong counter, uint flags)
    {
        for (int i = 0; i < 8; i++)
        {
            _cv[i] = cv[i];
        }

        fixed (byte* b = _block)
        {
            Buffer.MemoryCopy(block, b, BlockLen, BlockLen);
        }

        _blockLength = blockLength;
        _counter = counter;
        _flags = flags;
    }

    public static Output ForParent(byte* leftAndRight, uint* key, uint flags)
    {
        return new Output(key, leftAndRight, BlockLen, 0, flags | Parent);
    }

    public readonly void ChainingValue(byte* cv32)
    {
        uint* words = stackalloc uint[16];
        Compress(_counter, _flags, words);
        var cv = new Span<byte>(cv32, OutLen);
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(cv[(i * 4)..], words[i]);
        }
    }

    /// <summary>Writes the root output starting at byte <paramref name="position"/> of the output stream.</summary>
    public readonly void RootBytes(ulong position, Span<byte> destination)
    {
        uint* words = stackalloc uint[16];
        byte* block = stackalloc byte[BlockLen];
        var blockSpan = new Span<byte>(block, BlockLen);
        ulong blockCounter = position / BlockLen;
        int skip = (int)(position % BlockLen);
        while (!destination.IsEmpty)
        {
            Compress(blockCounter, _flags | Root, words);
            for (int i = 0; i < 16; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(blockSpan[(i * 4)..], words[i]);
            }

            int take = Math.Min(BlockLen - skip, destination.Length);
            blockSpan.Slice(skip, take).CopyTo(destination);
            destination = destination[take..];
            skip = 0;
            blockCounter++;
        }
    }

    private readonly void Compress(ulong counter, uint flags, uint* words16)
    {
        fixed (uint* cv = _cv)
        fixed (byte* block = _block)
        {
            Compression.CompressBlock(cv, block, _blockLength, counter, flags, words16);
        }
    }
}
