namespace CastoreFs.Core.Import;

/// <summary>Byte-wise order of names, as castore and NAR sort entries.</summary>
public sealed class ByteOrder : IComparer<byte[]>
{
    public static ByteOrder Instance { get; } = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
