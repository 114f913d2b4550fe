using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Platforms.Windows;

/// <summary>
/// Symlinks as reparse points. A target keeps its form, with <c>/</c> as <c>\</c> and each name mapped
/// as names are; an absolute target is read as relative to the drive's root, so that Nix's
/// <c>/nix/store/&lt;name&gt;/…</c> links land on the drive's own <c>\&lt;name&gt;\…</c>.
/// </summary>
internal sealed unsafe partial class WinFspFileSystem
{
    /// <summary>Hops a resolution follows before it gives up, as WinFsp's own resolution does.</summary>
    private const int MaxHops = 32;

    /// <summary>The longest Windows form of a target (castore allows 4095 bytes): a byte is at most one unit.</summary>
    private const int MaxTargetChars = 4096;

    private static ReadOnlySpan<byte> StorePrefix => "/nix/store/"u8;

    public int GetReparsePoint(nint context, void* buffer, nuint* size) =>
        Item(context) is not { } item ? NtStatus.InvalidHandle : WriteReparseData(item.Info.Node, buffer, size);

    /// <summary>What WinFsp's reparse helpers ask of each path component: is it a link, and what does it say.</summary>
    public int GetReparsePointByName(char* fileName, void* buffer, nuint* size)
    {
        int status = Resolve(Text(fileName), out var info, out _);
        if (status != NtStatus.Success)
        {
            return status;
        }

        if (info.Node.Kind != NodeKind.Symlink)
        {
            return NtStatus.NotAReparsePoint;
        }

        return buffer == null ? NtStatus.Success : WriteReparseData(info.Node, buffer, size);
    }

    /// <summary>The link's REPARSE_DATA_BUFFER: relative, the substitute and print names the same bytes (as WinFsp's FUSE layer writes them).</summary>
    internal static int WriteReparseData(in TreeNode link, void* buffer, nuint* size)
    {
        if (link.Kind != NodeKind.Symlink)
        {
            return NtStatus.NotAReparsePoint;
        }

        Span<char> target = stackalloc char[MaxTargetChars];
        int chars = WindowsTarget(link.Target.Span, target);
        int bytes = chars * sizeof(char);
        nuint total = (nuint)(SymlinkReparseHeader.PathOffset + bytes);
        if (*size < total)
        {
            *size = total;
            return NtStatus.BufferTooSmall;
        }

        var header = (SymlinkReparseHeader*)buffer;
        *header = default;
        header->ReparseTag = SymlinkReparseHeader.SymlinkTag;
        header->ReparseDataLength = (ushort)(SymlinkReparseHeader.CountedHeader + bytes);
        header->SubstituteNameLength = header->PrintNameLength = (ushort)bytes;
        header->Flags = SymlinkReparseHeader.RelativeFlag;
        target[..chars].CopyTo(new Span<char>((byte*)buffer + SymlinkReparseHeader.PathOffset, chars));
        *size = total;
        return NtStatus.Success;
    }

    /// <summary>A link target as Windows reads it: <c>\</c> between names, each name mapped, absolute targets from the drive's root.</summary>
    internal static int WindowsTarget(ReadOnlySpan<byte> target, Span<char> destination)
    {
        if (target.StartsWith(StorePrefix))
        {
            target = target[(StorePrefix.Length - 1)..];
        }

        int written = 0;
        if (!target.IsEmpty && target[0] == '/')
        {
            destination[written++] = '\\';
        }

        foreach (var range in target.Split((byte)'/'))
        {
            var name = target[range];
            if (name.IsEmpty)
            {
                continue;
            }

            if (written > 0 && destination[written - 1] != '\\')
            {
                destination[written++] = '\\';
            }

            // "." and ".." stay themselves: the resolution that follows the link steps by them.
            written += name is [(byte)'.'] or [(byte)'.', (byte)'.']
                ? System.Text.Encoding.ASCII.GetChars(name, destination[written..])
                : WindowsNames.Map(name, destination[written..]);
        }

        return written;
    }

    /// <summary>Whether the link at <paramref name="path"/> ends, after every hop, at a directory (a dangling link is a file link).</summary>
    private bool IsDirectoryLink(ReadOnlySpan<char> path, in TreeNode link)
    {
        if (_directoryLinks.TryGet(path, out bool cached))
        {
            return cached;
        }

        bool isDirectory = Follow(path, link) == NodeKind.Directory;
        _directoryLinks.Add(path.ToString(), isDirectory);
        return isDirectory;
    }

    /// <summary>The kind of what the link at <paramref name="path"/> finally names, or null when that is nothing.</summary>
    private NodeKind? Follow(ReadOnlySpan<char> path, TreeNode link)
    {
        var at = new List<string>(path[1..].ToString().Split('\\'));
        at.RemoveAt(at.Count - 1);
        var remaining = new LinkedList<string>();
        NodeKind kind = NodeKind.Directory;
        int hops = MaxHops;
        Span<char> target = stackalloc char[MaxTargetChars];
        while (true)
        {
            if (link.Exists)
            {
                if (--hops == 0)
                {
                    return null;
                }

                var windows = target[..WindowsTarget(link.Target.Span, target)];
                if (windows.StartsWith("\\"))
                {
                    at.Clear();
                }

                var names = windows.ToString().Split('\\', StringSplitOptions.RemoveEmptyEntries);
                for (int i = names.Length - 1; i >= 0; i--)
                {
                    remaining.AddFirst(names[i]);
                }

                link = default;
            }

            if (remaining.First is not { } next)
            {
                return kind;
            }

            remaining.RemoveFirst();
            if (next.Value == ".")
            {
                continue;
            }

            if (next.Value == "..")
            {
                if (at.Count > 0)
                {
                    at.RemoveAt(at.Count - 1);
                }

                kind = NodeKind.Directory;
                continue;
            }

            at.Add(next.Value);
            if (Resolve("\\" + string.Join('\\', at), out var info, out _) != NtStatus.Success)
            {
                return null;
            }

            kind = info.Node.Kind;
            if (kind == NodeKind.Symlink)
            {
                at.RemoveAt(at.Count - 1);
                link = info.Node;
            }
        }
    }
}
