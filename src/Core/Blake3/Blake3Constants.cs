namespace CastoreFs.Core.Blake3;

internal static class Blake3Constants
{
    public const int BlockLen = 64;
    public const int ChunkLen = 1024;
    public const int KeyLen = 32;
    public const int OutLen = 32;

    public const uint ChunkStart = 1 << 0;
    public const uint ChunkEnd = 1 << 1;
    public const uint Parent = 1 << 2;
    public const uint Root = 1 << 3;
    public const uint KeyedHash = 1 << 4;
    public const uint DeriveKeyContext = 1 << 5;
    public const uint DeriveKeyMaterial = 1 << 6;

    public const uint Iv0 = 0x6A09E667, Iv1 = 0xBB67AE85, Iv2 = 0x3C6EF372, Iv3 = 0xA54FF53A;
    public const uint Iv4 = 0x510E527F, Iv5 = 0x9B05688C, Iv6 = 0x1F83D9AB, Iv7 = 0x5BE0CD19;

    public static unsafe void WriteIv(uint* key)
    {
        key[0] = Iv0; key[1] = Iv1; key[2] = Iv2; key[3] = Iv3;
        key[4] = Iv4; key[5] = Iv5; key[6] = Iv6; key[7] = Iv7;
    }
}
