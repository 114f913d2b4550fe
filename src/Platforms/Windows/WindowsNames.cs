using System.Text;

namespace CastoreFs.Platforms.Windows;

/// <summary>
/// Store names (bytes) as Windows names (UTF-16) and back, one to one. A store name may hold what
/// Windows cannot: the characters <c>&lt; &gt; : " \ | ? *</c> and controls, trailing dots and spaces
/// (Win32 strips them), and bytes that are not UTF-8. Each such character or byte b becomes U+F000 + b,
/// as WinFsp's FUSE layer maps characters; a name that already holds a U+F000–U+F0FF character has that
/// character's UTF-8 bytes mapped too, so that no two store names share a Windows name. A Windows name
/// is only found when it is the mapping of a store name.
/// </summary>
internal static class WindowsNames
{
    /// <summary>The longest mapping of a store name (255 bytes): every byte is at most one UTF-16 unit.</summary>
    public const int MaxChars = 255;

    private const char Escape = '\uF000';

    /// <summary>Writes <paramref name="name"/>'s Windows name into <paramref name="destination"/> (at least <see cref="MaxChars"/> long) and returns its length.</summary>
    public static int Map(ReadOnlySpan<byte> name, Span<char> destination)
    {
        int written = 0;
        int keepUntil = name.Length;
        while (keepUntil > 0 && name[keepUntil - 1] is (byte)'.' or (byte)' ')
        {
            keepUntil--;
        }

        for (int i = 0; i < name.Length;)
        {
            if (i >= keepUntil)
            {
                destination[written++] = (char)(Escape + name[i++]);
                continue;
            }

            if (Rune.DecodeFromUtf8(name[i..], out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                destination[written++] = (char)(Escape + name[i++]);
                continue;
            }

            if (rune.Value is >= Escape and <= 0xF0FF)
            {
                for (int j = 0; j < consumed; j++)
                {
                    destination[written++] = (char)(Escape + name[i + j]);
                }
            }
            else if (rune.IsAscii && IsForbidden((char)rune.Value))
            {
                destination[written++] = (char)(Escape + rune.Value);
            }
            else
            {
                written += rune.EncodeToUtf16(destination[written..]);
            }

            i += consumed;
        }

        return written;
    }

    /// <summary>
    /// The store name whose Windows name is <paramref name="name"/>, written into <paramref name="destination"/>
    /// (at least 3 bytes per character): its length, or -1 when no store name maps to it.
    /// </summary>
    public static int Unmap(ReadOnlySpan<char> name, Span<byte> destination)
    {
        int written = 0;
        for (int i = 0; i < name.Length;)
        {
            char c = name[i];
            if (c is > Escape and <= '\uF0FF')
            {
                destination[written++] = (byte)(c - Escape);
                i++;
                continue;
            }

            if (c < 0x80 && IsForbidden(c) || Rune.DecodeFromUtf16(name[i..], out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                return -1;
            }

            written += rune.EncodeToUtf8(destination[written..]);
            i += consumed;
        }

        // Only the canonical form names a file: another spelling of the same bytes (an escaped letter) is no name.
        Span<char> canonical = stackalloc char[MaxChars];
        return written is > 0 and <= MaxChars && name.SequenceEqual(canonical[..Map(destination[..written], canonical)]) ? written : -1;
    }

    /// <summary>A character a Windows file name cannot hold.</summary>
    private static bool IsForbidden(char c) => c < 0x20 || c is '<' or '>' or ':' or '"' or '\\' or '/' or '|' or '?' or '*';
}
