using System.Buffers.Binary;
using System.Text;
using CastoreFs.Core.Model;

namespace CastoreFs.Core.Nar;

/// <summary>
/// Parses a NAR stream into callbacks, streaming file contents; rejects truncation, bad tokens,
/// non-zero padding, unsorted or duplicate entries and names castore cannot hold.
/// </summary>
public sealed class NarReader(Stream input)
{
    /// <summary>Strings other than file contents are short; a longer one is corruption, not data.</summary>
    private const int MaxTokenLength = 64 * 1024;

    private readonly byte[] _eight = new byte[8];

    public long Position { get; private set; }

    /// <summary>
    /// Reads a whole NAR; <paramref name="visitor"/> builds whatever it represents. Open directories are
    /// kept on a stack of the reader's own, not the call stack, so a NAR nested to any depth is read.
    /// </summary>
    public async Task<T> ReadAsync<T>(INarVisitor<T> visitor, CancellationToken ct)
    {
        await ExpectAsync(NarTokens.Magic, ct).ConfigureAwait(false);
        var open = new Stack<DirectoryFrame<T>>();
        var name = Array.Empty<byte>();
        while (true)
        {
            await ExpectAsync(NarTokens.Open, ct).ConfigureAwait(false);
            await ExpectAsync(NarTokens.Type, ct).ConfigureAwait(false);
            var type = await ReadTokenAsync(ct).ConfigureAwait(false);
            T value = default!;
            bool done = true;
            switch (type)
            {
                case NarTokens.Regular:
                    value = await ReadRegularAsync(visitor, name, ct).ConfigureAwait(false);
                    break;
                case NarTokens.Symlink:
                    await ExpectAsync(NarTokens.Target, ct).ConfigureAwait(false);
                    var target = await ReadBytesAsync(ct).ConfigureAwait(false);
                    WrapValidation(() => NodeRules.ValidateSymlinkTarget(target));
                    await ExpectAsync(NarTokens.Close, ct).ConfigureAwait(false);
                    value = visitor.Symlink(name, target);
                    break;
                case NarTokens.Directory:
                    open.Push(new DirectoryFrame<T>(name));
                    done = false;
                    break;
                default:
                    throw new NarFormatException($"unknown node type '{type}' at byte {Position}");
            }

            // Hand finished nodes to their directories, until one of them has another entry to read.
            while (true)
            {
                if (done)
                {
                    if (open.Count == 0)
                    {
                        if (await input.ReadAsync(_eight.AsMemory(0, 1), ct).ConfigureAwait(false) != 0)
                        {
                            throw new NarFormatException($"trailing data after the NAR at byte {Position}");
                        }

                        return value;
                    }

                    open.Peek().Entries.Add(value);
                    await ExpectAsync(NarTokens.Close, ct).ConfigureAwait(false);
                }

                var directory = open.Peek();
                var token = await ReadTokenAsync(ct).ConfigureAwait(false);
                if (token == NarTokens.Close)
                {
                    open.Pop();
                    value = await visitor.DirectoryAsync(directory.Name, directory.Entries, ct).ConfigureAwait(false);
                    done = true;
                    continue;
                }

                if (token != NarTokens.Entry)
                {
                    throw new NarFormatException($"expected 'entry' or ')', found '{token}' at byte {Position}");
                }

                name = await ReadEntryNameAsync(directory, ct).ConfigureAwait(false);
                break;
            }
        }
    }

    private async Task<T> ReadRegularAsync<T>(INarVisitor<T> visitor, byte[] name, CancellationToken ct)
    {
        var token = await ReadTokenAsync(ct).ConfigureAwait(false);
        bool executable = false;
        if (token == NarTokens.Executable)
        {
            if ((await ReadBytesAsync(ct).ConfigureAwait(false)).Length != 0)
            {
                throw new NarFormatException($"'executable' must be followed by an empty string at byte {Position}");
            }

            executable = true;
            token = await ReadTokenAsync(ct).ConfigureAwait(false);
        }

        if (token != NarTokens.Contents)
        {
            throw new NarFormatException($"expected 'contents', found '{token}' at byte {Position}");
        }

        ulong size = await ReadLengthAsync(ct).ConfigureAwait(false);
        var contents = new NarContentStream(this, size);
        var result = await visitor.RegularAsync(name, executable, size, contents, ct).ConfigureAwait(false);
        await contents.DrainAsync(ct).ConfigureAwait(false);
        await ReadPaddingAsync(size, ct).ConfigureAwait(false);
        await ExpectAsync(NarTokens.Close, ct).ConfigureAwait(false);
        return result;
    }

    /// <summary>Reads <c>( name NAME node</c> of an entry: a valid name, after the one before it.</summary>
    private async Task<byte[]> ReadEntryNameAsync<T>(DirectoryFrame<T> directory, CancellationToken ct)
    {
        await ExpectAsync(NarTokens.Open, ct).ConfigureAwait(false);
        await ExpectAsync(NarTokens.Name, ct).ConfigureAwait(false);
        var name = await ReadBytesAsync(ct).ConfigureAwait(false);
        WrapValidation(() => NodeRules.ValidateName(name));
        if (directory.Previous is { } previous && name.AsSpan().SequenceCompareTo(previous) <= 0)
        {
            throw new NarFormatException($"entry '{NodeRules.Display(name)}' is not sorted or is a duplicate");
        }

        directory.Previous = name;
        await ExpectAsync(NarTokens.Node, ct).ConfigureAwait(false);
        return name;
    }

    internal async ValueTask<int> ReadContentsAsync(Memory<byte> buffer, CancellationToken ct)
    {
        int n = await input.ReadAsync(buffer, ct).ConfigureAwait(false);
        if (n == 0 && buffer.Length > 0)
        {
            throw new NarFormatException($"NAR truncated inside file contents at byte {Position}");
        }

        Position += n;
        return n;
    }

    private static void WrapValidation(Action validate)
    {
        try
        {
            validate();
        }
        catch (CastoreValidationException e)
        {
            throw new NarFormatException(e.Message);
        }
    }

    private async ValueTask ExpectAsync(string expected, CancellationToken ct)
    {
        var token = await ReadTokenAsync(ct).ConfigureAwait(false);
        if (token != expected)
        {
            throw new NarFormatException($"expected '{expected}', found '{token}' at byte {Position}");
        }
    }

    private async ValueTask<string> ReadTokenAsync(CancellationToken ct) =>
        Encoding.ASCII.GetString(await ReadBytesAsync(ct).ConfigureAwait(false));

    private async ValueTask<byte[]> ReadBytesAsync(CancellationToken ct)
    {
        ulong length = await ReadLengthAsync(ct).ConfigureAwait(false);
        if (length > MaxTokenLength)
        {
            throw new NarFormatException($"string of {length} bytes at byte {Position} is too long for a NAR token");
        }

        var bytes = new byte[length];
        await ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
        await ReadPaddingAsync(length, ct).ConfigureAwait(false);
        return bytes;
    }

    private async ValueTask<ulong> ReadLengthAsync(CancellationToken ct)
    {
        await ReadExactlyAsync(_eight, ct).ConfigureAwait(false);
        return BinaryPrimitives.ReadUInt64LittleEndian(_eight);
    }

    private async ValueTask ReadPaddingAsync(ulong length, CancellationToken ct)
    {
        int pad = (int)((8 - (length % 8)) % 8);
        if (pad == 0)
        {
            return;
        }

        await ReadExactlyAsync(_eight.AsMemory(0, pad), ct).ConfigureAwait(false);
        if (_eight.AsSpan(0, pad).ContainsAnyExcept((byte)0))
        {
            throw new NarFormatException($"non-zero padding at byte {Position}");
        }
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken ct)
    {
        try
        {
            await input.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            throw new NarFormatException($"NAR truncated at byte {Position}");
        }

        Position += buffer.Length;
    }

    /// <summary>A directory being read: its name, its entries so far, and the last entry's name.</summary>
    private sealed class DirectoryFrame<T>(byte[] name)
    {
        public byte[] Name { get; } = name;

        public List<T> Entries { get; } = [];

        public byte[]? Previous { get; set; }
    }
}
