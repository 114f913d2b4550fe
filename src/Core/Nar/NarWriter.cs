using System.Buffers.Binary;
using System.Text;

namespace CastoreFs.Core.Nar;

/// <summary>
/// Writes the Nix ARchive format token by token: every string is a u64 little-endian length, the bytes,
/// and zero padding to 8. Callers emit nodes in order (entries sorted by name, as Nix does).
/// </summary>
public sealed class NarWriter(Stream output)
{
    private static readonly byte[] Padding = new byte[8];

    public async ValueTask WriteHeaderAsync(CancellationToken ct) => await WriteStringAsync(NarTokens.Magic, ct).ConfigureAwait(false);

    public async ValueTask BeginRegularAsync(bool executable, ulong size, CancellationToken ct)
    {
        await WriteStringsAsync(ct, NarTokens.Open, NarTokens.Type, NarTokens.Regular).ConfigureAwait(false);
        if (executable)
        {
            await WriteStringsAsync(ct, NarTokens.Executable, string.Empty).ConfigureAwait(false);
        }

        await WriteStringAsync(NarTokens.Contents, ct).ConfigureAwait(false);
        await WriteLengthAsync(size, ct).ConfigureAwait(false);
    }

    public ValueTask WriteContentsAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => output.WriteAsync(data, ct);

    /// <summary>Pads the contents of <paramref name="size"/> bytes and closes the regular file node.</summary>
    public async ValueTask EndRegularAsync(ulong size, CancellationToken ct)
    {
        await WritePaddingAsync(size, ct).ConfigureAwait(false);
        await WriteStringAsync(NarTokens.Close, ct).ConfigureAwait(false);
    }

    public async ValueTask WriteSymlinkAsync(ReadOnlyMemory<byte> target, CancellationToken ct)
    {
        await WriteStringsAsync(ct, NarTokens.Open, NarTokens.Type, NarTokens.Symlink, NarTokens.Target).ConfigureAwait(false);
        await WriteBytesAsync(target, ct).ConfigureAwait(false);
        await WriteStringAsync(NarTokens.Close, ct).ConfigureAwait(false);
    }

    public ValueTask BeginDirectoryAsync(CancellationToken ct) =>
        WriteStringsAsync(ct, NarTokens.Open, NarTokens.Type, NarTokens.Directory);

    public async ValueTask BeginEntryAsync(ReadOnlyMemory<byte> name, CancellationToken ct)
    {
        await WriteStringsAsync(ct, NarTokens.Entry, NarTokens.Open, NarTokens.Name).ConfigureAwait(false);
        await WriteBytesAsync(name, ct).ConfigureAwait(false);
        await WriteStringAsync(NarTokens.Node, ct).ConfigureAwait(false);
    }

    public ValueTask EndEntryAsync(CancellationToken ct) => WriteStringAsync(NarTokens.Close, ct);

    public ValueTask EndDirectoryAsync(CancellationToken ct) => WriteStringAsync(NarTokens.Close, ct);

    private async ValueTask WriteStringsAsync(CancellationToken ct, params string[] tokens)
    {
        foreach (var token in tokens)
        {
            await WriteStringAsync(token, ct).ConfigureAwait(false);
        }
    }

    private ValueTask WriteStringAsync(string token, CancellationToken ct) => WriteBytesAsync(Encoding.ASCII.GetBytes(token), ct);

    private async ValueTask WriteBytesAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        await WriteLengthAsync((ulong)bytes.Length, ct).ConfigureAwait(false);
        await output.WriteAsync(bytes, ct).ConfigureAwait(false);
        await WritePaddingAsync((ulong)bytes.Length, ct).ConfigureAwait(false);
    }

    private ValueTask WriteLengthAsync(ulong length, CancellationToken ct)
    {
        var buffer = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, length);
        return output.WriteAsync(buffer, ct);
    }

    private ValueTask WritePaddingAsync(ulong length, CancellationToken ct)
    {
        int pad = (int)((8 - (length % 8)) % 8);
        return pad == 0 ? ValueTask.CompletedTask : output.WriteAsync(Padding.AsMemory(0, pad), ct);
    }
}
