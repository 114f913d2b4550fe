namespace CastoreFs.Core.Nix;

/// <summary>Nix's base32: its own alphabet (no e, o, t, u), no padding, read from the last byte's high bits.</summary>
public static class NixBase32
{
    public const string Alphabet = "0123456789abcdfghijklmnpqrsvwxyz";

    public static int EncodedLength(int byteCount) => byteCount == 0 ? 0 : ((byteCount * 8) - 1) / 5 + 1;

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        int length = EncodedLength(bytes.Length);
        return string.Create(length, bytes.ToArray(), static (chars, input) =>
        {
            for (int k = 0; k < chars.Length; k++)
            {
                int bit = (chars.Length - 1 - k) * 5;
                int i = bit / 8, j = bit % 8;
                int c = input[i] >> j;
                if (i + 1 < input.Length)
                {
                    c |= input[i + 1] << (8 - j);
                }

                chars[k] = Alphabet[c & 0x1f];
            }
        });
    }

    /// <summary>Decodes, rejecting characters outside the alphabet and set bits past the last byte.</summary>
    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        int length = text.Length * 5 / 8;
        if (EncodedLength(length) != text.Length)
        {
            throw new FormatException($"invalid nixbase32 length {text.Length}");
        }

        var bytes = new byte[length];
        for (int n = 0; n < text.Length; n++)
        {
            int digit = Alphabet.IndexOf(text[text.Length - 1 - n], StringComparison.Ordinal);
            if (digit < 0)
            {
                throw new FormatException($"invalid nixbase32 character '{text[text.Length - 1 - n]}'");
            }

            int bit = n * 5;
            int i = bit / 8, j = bit % 8;
            bytes[i] |= (byte)(digit << j);
            int carry = digit >> (8 - j);
            if (i + 1 < length)
            {
                bytes[i + 1] |= (byte)carry;
            }
            else if (carry != 0)
            {
                throw new FormatException("invalid nixbase32: non-zero bits past the end");
            }
        }

        return bytes;
    }
}
