using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using Google.Protobuf;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Model;

/// <summary>A Directory's digest, size and validity, as upstream's castore defines them.</summary>
public static class DirectoryRules
{
    /// <summary>
    /// Parses Directories and the messages around them dropping unknown fields: a digest is over the
    /// fields castore knows, re-encoded canonically.
    /// </summary>
    public static MessageParser<Directory> Parser { get; } = Directory.Parser.WithDiscardUnknownFields(true);

    /// <summary>BLAKE3 of the canonical protobuf encoding (field order, defaults omitted; as prost).</summary>
    public static B3Digest Digest(this Directory directory) => Blake3Hasher.Hash(directory.ToByteArray());

    /// <summary>
    /// The value a parent's DirectoryNode.size must carry. The seed formula F + S + D + Σ(child sizes);
    /// later eras changed it (2·(F+S+D)+Σ, then F+S+2·D+Σ), which changes digests, so it lives only here.
    /// </summary>
    public static ulong Size(this Directory directory)
    {
        ulong size = (ulong)directory.Files.Count + (ulong)directory.Symlinks.Count + (ulong)directory.Directories.Count;
        foreach (var child in directory.Directories)
        {
            size = checked(size + child.Size);
        }

        return size;
    }

    /// <summary>Every node valid; each list sorted; names unique across the three lists; size in u64.</summary>
    public static void Validate(this Directory directory)
    {
        var names = new HashSet<ByteString>();
        ValidateList(directory.Directories, d => d.Name, NodeRules.Validate, names);
        ValidateList(directory.Files, f => f.Name, NodeRules.Validate, names);
        ValidateList(directory.Symlinks, s => s.Name, NodeRules.Validate, names);
        try
        {
            _ = directory.Size();
        }
        catch (OverflowException)
        {
            throw new CastoreValidationException("directory size overflows u64");
        }
    }

    /// <summary>The node called <paramref name="name"/>, or null. Lists are sorted, so this is a binary search.</summary>
    public static Node? Find(this Directory directory, ReadOnlySpan<byte> name)
    {
        int d = BinarySearch(directory.Directories, static n => n.Name, name);
        if (d >= 0)
        {
            return new Node { Directory = directory.Directories[d] };
        }

        int f = BinarySearch(directory.Files, static n => n.Name, name);
        if (f >= 0)
        {
            return new Node { File = directory.Files[f] };
        }

        int s = BinarySearch(directory.Symlinks, static n => n.Name, name);
        return s >= 0 ? new Node { Symlink = directory.Symlinks[s] } : null;
    }

    /// <summary>Appends an entry to the list of its kind; callers add entries in name order.</summary>
    public static void Add(this Directory directory, Node entry)
    {
        switch (entry.NodeCase)
        {
            case Node.NodeOneofCase.Directory: directory.Directories.Add(entry.Directory); break;
            case Node.NodeOneofCase.File: directory.Files.Add(entry.File); break;
            case Node.NodeOneofCase.Symlink: directory.Symlinks.Add(entry.Symlink); break;
            default: throw new CastoreValidationException("node is not set");
        }
    }

    /// <summary>The node a parent holds for this directory under <paramref name="name"/>: its digest and size.</summary>
    public static DirectoryNode ToNode(this Directory directory, ByteString name) =>
        new() { Name = name, Digest = directory.Digest().ToByteString(), Size = directory.Size() };

    /// <summary>All entries in name order, across the three lists.</summary>
    public static IEnumerable<Node> EntriesInNameOrder(this Directory directory)
    {
        var all = new List<Node>(directory.Directories.Count + directory.Files.Count + directory.Symlinks.Count);
        all.AddRange(directory.Directories.Select(d => new Node { Directory = d }));
        all.AddRange(directory.Files.Select(f => new Node { File = f }));
        all.AddRange(directory.Symlinks.Select(s => new Node { Symlink = s }));
        all.Sort(static (a, b) => NodeRules.NameOf(a).Span.SequenceCompareTo(NodeRules.NameOf(b).Span));
        return all;
    }

    private static void ValidateList<T>(
        IList<T> nodes, Func<T, ByteString> nameOf, Action<T> validate, HashSet<ByteString> names)
    {
        ByteString? previous = null;
        foreach (var node in nodes)
        {
            validate(node);
            var name = nameOf(node);
            if (previous is not null && name.Span.SequenceCompareTo(previous.Span) < 0)
            {
                throw new CastoreValidationException($"'{NodeRules.Display(name.Span)}' is not sorted");
            }

            if (!names.Add(name))
            {
                throw new CastoreValidationException($"duplicate name '{NodeRules.Display(name.Span)}'");
            }

            previous = name;
        }
    }

    private static int BinarySearch<T>(IList<T> nodes, Func<T, ByteString> nameOf, ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = nodes.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            int c = nameOf(nodes[mid]).Span.SequenceCompareTo(name);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }
}
