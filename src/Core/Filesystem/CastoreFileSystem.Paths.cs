using CastoreFs.Core.Caching;
using CastoreFs.Core.Digests;
using Snix.Castore.V1;

namespace CastoreFs.Core.Filesystem;

/// <summary>
/// The tree for callers that name things by path (WinFsp): nodes held as values, no numbers and no
/// reference counts. What such a caller holds in the tree is its open files, until it releases them.
/// </summary>
public sealed partial class CastoreFileSystem
{
    /// <summary>Directory listings kept for path walks: a few MiB for trees of ordinary fan-out.</summary>
    private const int ListingsKept = 4096;

    private readonly GenerationalCache<B3Digest, DirectoryEntry[]> _listings = new(ListingsKept);

    /// <summary>The tree's root: the store's path infos, or the directory given as the root.</summary>
    public TreeNode Root { get; }

    /// <summary>The node named <paramref name="name"/> in <paramref name="directory"/>: ENOENT, ENOTDIR or EIO otherwise.</summary>
    public Errno Child(in TreeNode directory, ReadOnlySpan<byte> name, out TreeNode child)
    {
        child = default;
        if (!directory.Exists)
        {
            return Errno.ENOENT;
        }

        if (directory.Kind != NodeKind.Directory)
        {
            return Errno.ENOTDIR;
        }

        Node? node;
        if (directory.IsStoreRoot)
        {
            var error = FindRoot(name, out node);
            if (error != Errno.None)
            {
                return error;
            }
        }
        else
        {
            var error = FetchListing(directory.Digest!.Value, 0, out var listing);
            if (error != Errno.None)
            {
                return error;
            }

            node = Find(listing, name);
        }

        if (node is null)
        {
            return Errno.ENOENT;
        }

        child = TreeNode.Of(node);
        return Errno.None;
    }

    /// <summary>
    /// A directory's entries in name order (bytes compared as unsigned). At the store's root this is a
    /// fresh snapshot of the path infos, and EPERM unless listing the root was allowed.
    /// </summary>
    public Errno List(in TreeNode directory, out DirectoryEntry[] entries)
    {
        entries = [];
        if (!directory.Exists)
        {
            return Errno.ENOENT;
        }

        if (directory.Kind != NodeKind.Directory)
        {
            return Errno.ENOTDIR;
        }

        if (directory.IsStoreRoot)
        {
            if (!_options.ListRoot)
            {
                return Errno.EPERM;
            }

            var error = ListRoots(out entries);
            if (error == Errno.None)
            {
                Array.Sort(entries, static (a, b) => a.Name.Span.SequenceCompareTo(b.Name.Span));
            }

            return error;
        }

        return FetchListing(directory.Digest!.Value, 0, out entries);
    }

    /// <summary>Opens a file for <see cref="ReadFile"/> until <see cref="Release"/>.</summary>
    public Errno OpenFile(in TreeNode file, out ulong handle)
    {
        handle = 0;
        if (!file.Exists)
        {
            return Errno.ENOENT;
        }

        if (file.Kind != NodeKind.File)
        {
            return Errno.EISDIR;
        }

        var error = TryOpenBlob(0, file.Digest!.Value, file.Size, out var blob);
        if (error == Errno.None)
        {
            handle = _files.Add(blob!);
        }

        return error;
    }

    /// <summary>Reads from a file opened by <see cref="OpenFile"/>: up to <paramref name="destination"/>.Length bytes, fewer only at its end.</summary>
    public Errno ReadFile(ulong handle, long offset, Span<byte> destination, out int count)
    {
        if (handle == 0)
        {
            count = 0;
            return Errno.EBADF;
        }

        return Read(0, handle, offset, destination, out count);
    }
}
