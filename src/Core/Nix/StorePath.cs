namespace CastoreFs.Core.Nix;

/// <summary>A Nix store path: a 20-byte digest and a name, written <c>&lt;nixbase32 digest&gt;-&lt;name&gt;</c>.</summary>
public sealed class StorePath : IEquatable<StorePath>
{
    public const string StoreDir = "/nix/store";
    public const int DigestLength = 20;
    public const int EncodedDigestLength = 32;
    public const int MaxNameLength = 211;

    private readonly byte[] _digest;

    public StorePath(ReadOnlySpan<byte> digest, string name)
    {
        if (digest.Length != DigestLength)
        {
            throw new FormatException($"a store path digest is {DigestLength} bytes, not {digest.Length}");
        }

        ValidateName(name);
        _digest = digest.ToArray();
        Name = name;
    }

    public ReadOnlySpan<byte> Digest => _digest;

    public string Name { get; }

    /// <summary>The basename as it appears under /nix/store.</summary>
    public string BaseName => NixBase32.Encode(_digest) + "-" + Name;

    public string AbsolutePath => StoreDir + "/" + BaseName;

    /// <summary>Parses <c>&lt;hash&gt;-&lt;name&gt;</c>.</summary>
    public static StorePath Parse(string baseName)
    {
        if (baseName.Length < EncodedDigestLength + 2 || baseName[EncodedDigestLength] != '-')
        {
            throw new FormatException($"'{baseName}' is not a store path basename (<32 nixbase32 chars>-<name>)");
        }

        return new StorePath(NixBase32.Decode(baseName.AsSpan(0, EncodedDigestLength)), baseName[(EncodedDigestLength + 1)..]);
    }

    public static bool TryParse(string baseName, out StorePath? path)
    {
        try
        {
            path = Parse(baseName);
            return true;
        }
        catch (FormatException)
        {
            path = null;
            return false;
        }
    }

    /// <summary>Parses <c>/nix/store/&lt;hash&gt;-&lt;name&gt;</c>, or a bare basename.</summary>
    public static StorePath ParseAbsoluteOrBaseName(string path)
    {
        const string prefix = StoreDir + "/";
        return Parse(path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path);
    }

    public static void ValidateName(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new FormatException($"a store path name is 1 to {MaxNameLength} characters, '{name}' has {name.Length}");
        }

        foreach (char c in name)
        {
            if (!IsNameChar(c))
            {
                throw new FormatException($"invalid character '{c}' in store path name '{name}' (allowed: a-z A-Z 0-9 + - _ ? = .)");
            }
        }
    }

    public static bool IsNameChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '_' or '?' or '=' or '.';

    public bool Equals(StorePath? other) => other is not null && Name == other.Name && Digest.SequenceEqual(other.Digest);

    public override bool Equals(object? obj) => Equals(obj as StorePath);

    public override int GetHashCode() => HashCode.Combine(BitConverter.ToInt32(_digest), Name);

    public override string ToString() => BaseName;
}
