namespace CastoreFs.Core.Nar;

/// <summary>Receives a NAR's nodes bottom-up: a directory after all of its entries.</summary>
public interface INarVisitor<T>
{
    /// <summary>Must consume <paramref name="contents"/> (exactly <paramref name="size"/> bytes) or leave the rest to be skipped.</summary>
    Task<T> RegularAsync(byte[] name, bool executable, ulong size, Stream contents, CancellationToken ct);

    T Symlink(byte[] name, byte[] target);

    Task<T> DirectoryAsync(byte[] name, IReadOnlyList<T> entries, CancellationToken ct);
}
