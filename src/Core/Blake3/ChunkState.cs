using static CastoreFs.Core.Blake3.Blake3Constants;

namespace CastoreFs.Core.Blake3;

/// <summary>The state of one chunk being hashed block by block.</summary>
internal unsafe struct ChunkState
{
    private fixed uint _cv[8];
    private fixed byte _block[BlockLen];
    private int _blockLength;
    private int _blocksCompressed;

    public ChunkState(uint* key, ulong chunkCounter, uint flags)
    {
        for (int i = 0; i < 8; i++)
        {
            _cv[i] = key[i];
        }

        ChunkCounter = chunkCounter;
        Flags = flags;
    }

    public ulong ChunkCounter { get; }

    public uint Flags { get; }

    public readonly int Length => (_blocksCompressed * BlockLen) + _blockLength;

    private readonly uint StartFlag => _blocksCompressed == 0 ? ChunkStart : 0;

    public void Update(ReadOnlySpan<byte> input)
    {
        uint* scratch = stackalloc uint[16];
        while (!input.IsEmpty)
        {
            // A full block is compressed only once more input arrives: the last block needs CHUNK_END.
            if (_blockLength == BlockLen)
            {
                fixed (uint* cv = _cv)
                fixed (byte* block = _block)
                {
                    Compression.CompressBlock(cv, block, BlockLen, ChunkCounter, Flags | StartFlag, scratch);
                    for (int i = 0; i < 8; i++)
                    {
                        cv[i] = scratch[i];
                    }
                }

                _blocksCompressed++;
                _blockLength = 0;
                fixed (byte* block = _block)
                {
                    new Span<byte>(block, BlockLen).Clear();
                }
            }

            int take = Math.Min(BlockLen - _blockLength, input.Length);
            fixed (byte* block = _block)
            {
                input[..take].CopyTo(new Span<byte>(block + _blockLength, take));
            }

            _blockLength += take;
            input = input[take..];
        }
    }

    public readonly Output Output()
    {
        fixed (uint* cv = _cv)
        fixed (byte* block = _block)
        {
            return new Output(cv, block, (uint)_blockLength, ChunkCounter, Flags | StartFlag | ChunkEnd);
        }
    }
}
