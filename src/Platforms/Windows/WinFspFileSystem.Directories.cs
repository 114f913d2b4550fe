using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Platforms.Windows;

/// <summary>Directory listings, continued after a marker, and exact-name lookups.</summary>
internal sealed unsafe partial class WinFspFileSystem
{
    private const int DirInfoBytes = DirInfo.NameOffset + (WindowsNames.MaxChars * sizeof(char));

    /// <summary>
    /// Entries strictly after <paramref name="marker"/>, in the tree's order ("." and ".." first outside the
    /// root, then names as bytes), as many as fit; the end is marked only once every entry went out.
    /// </summary>
    public int ReadDirectory(nint context, char* marker, void* buffer, uint length, uint* transferred)
    {
        *transferred = 0;
        if (Item(context) is not { } item)
        {
            return NtStatus.InvalidHandle;
        }

        if (item.Info.Node.Kind != NodeKind.Directory)
        {
            return NtStatus.NotADirectory;
        }

        if (item.Listing is not { } listing)
        {
            // The store's root, when listing it was not allowed (as EPERM on Linux).
            return NtStatus.AccessDenied;
        }

        var after = marker == null ? default : Text(marker);
        bool isRoot = item.Path.Length == 1;
        byte* entry = stackalloc byte[DirInfoBytes];
        if (!isRoot && marker == null && !AddDot(item, ".", item.Info, entry, buffer, length, transferred))
        {
            return NtStatus.Success;
        }

        if (!isRoot && (marker == null || after.SequenceEqual(".")) && !AddDot(item, "..", ParentOf(item), entry, buffer, length, transferred))
        {
            return NtStatus.Success;
        }

        for (int i = marker == null || after is "." or ".." ? 0 : FirstAfter(listing, after); i < listing.Length; i++)
        {
            int nameChars = WindowsNames.Map(listing[i].Name.Span, new Span<char>(entry + DirInfo.NameOffset, WindowsNames.MaxChars));
            var name = new ReadOnlySpan<char>(entry + DirInfo.NameOffset, nameChars);
            var info = new NodeInfo(listing[i].TreeNode, ChildId(item.Info.FileId, name));
            FillEntry(item, info, name, (DirInfo*)entry);
            if (_api.AddDirInfo((DirInfo*)entry, buffer, length, transferred) == 0)
            {
                return NtStatus.Success;
            }
        }

        _api.AddDirInfo(null, buffer, length, transferred);
        return NtStatus.Success;
    }

    /// <summary>One name in a directory, without listing it: how FindFirstFile of an exact name is answered.</summary>
    public int GetDirInfoByName(nint context, char* fileName, DirInfo* dirInfo)
    {
        if (Item(context) is not { } item)
        {
            return NtStatus.InvalidHandle;
        }

        var name = Text(fileName);
        if (name.Length is 0 or > WindowsNames.MaxChars)
        {
            return NtStatus.ObjectNameNotFound;
        }

        Span<char> path = stackalloc char[item.Path.Length + 1 + name.Length];
        int prefix = item.Path.Length == 1 ? 0 : item.Path.Length;
        item.Path.AsSpan(0, prefix).CopyTo(path);
        path[prefix] = '\\';
        name.CopyTo(path[(prefix + 1)..]);
        path = path[..(prefix + 1 + name.Length)];
        int status = Resolve(path, out var info, out _);
        if (status != NtStatus.Success)
        {
            return status is NtStatus.Reparse or NtStatus.ObjectPathNotFound ? NtStatus.ObjectNameNotFound : status;
        }

        name.CopyTo(new Span<char>((byte*)dirInfo + DirInfo.NameOffset, name.Length));
        FillEntry(item, info, name, dirInfo);
        return NtStatus.Success;
    }

    /// <summary>The first entry whose name sorts after the store name <paramref name="marker"/> maps back to.</summary>
    private static int FirstAfter(DirectoryEntry[] listing, ReadOnlySpan<char> marker)
    {
        Span<byte> bytes = stackalloc byte[WindowsNames.MaxChars * 3];
        int length = marker.Length <= WindowsNames.MaxChars ? WindowsNames.Unmap(marker, bytes) : -1;
        if (length < 0)
        {
            // No store name maps to it, so the driver never got it from here: nothing follows it.
            return listing.Length;
        }

        var after = bytes[..length];
        int lo = 0, hi = listing.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (listing[mid].Name.Span.SequenceCompareTo(after) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private NodeInfo ParentOf(OpenItem item)
    {
        int cut = item.Path.LastIndexOf('\\');
        return Resolve(cut <= 0 ? "\\" : item.Path.AsSpan(0, cut), out var parent, out _) == NtStatus.Success ? parent : item.Info;
    }

    private bool AddDot(OpenItem directory, string dot, NodeInfo info, byte* entry, void* buffer, uint length, uint* transferred)
    {
        dot.CopyTo(new Span<char>(entry + DirInfo.NameOffset, dot.Length));
        FillEntry(directory, info, dot, (DirInfo*)entry);
        return _api.AddDirInfo((DirInfo*)entry, buffer, length, transferred) != 0;
    }

    /// <summary>The entry's fixed part; its name is already in place after it.</summary>
    private void FillEntry(OpenItem directory, in NodeInfo info, ReadOnlySpan<char> name, DirInfo* dirInfo)
    {
        *dirInfo = default;
        dirInfo->Size = (ushort)(DirInfo.NameOffset + (name.Length * sizeof(char)));
        if (info.Node.Kind == NodeKind.Symlink)
        {
            // Whether the link is a directory link depends on where it is: its path is built for links only.
            Fill(info, directory.Path.Length == 1 ? $"\\{name}" : $"{directory.Path}\\{name}", &dirInfo->FileInfo);
        }
        else
        {
            Fill(info, default, &dirInfo->FileInfo);
        }
    }
}
