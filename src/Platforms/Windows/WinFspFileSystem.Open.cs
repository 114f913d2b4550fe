using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Platforms.Windows;

/// <summary>Looking up, opening, reading and closing.</summary>
internal sealed unsafe partial class WinFspFileSystem
{
    private const uint FileDirectoryFile = 0x1;
    private const uint FileNonDirectoryFile = 0x40;
    private const uint FileDeleteOnClose = 0x1000;

    /// <summary>Rights that change something: FILE_WRITE_DATA, APPEND_DATA, WRITE_EA, DELETE_CHILD, WRITE_ATTRIBUTES, DELETE, WRITE_DAC, WRITE_OWNER.</summary>
    private const uint WriteAccess = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000;

    private static ReadOnlySpan<char> VolumeLabel => "castorefs";

    public int GetVolumeInfo(VolumeInfo* info)
    {
        *info = default;
        VolumeLabel.CopyTo(new Span<char>(info->VolumeLabel, VolumeInfo.LabelChars));
        info->VolumeLabelLength = (ushort)(VolumeLabel.Length * sizeof(char));
        return NtStatus.Success;
    }

    /// <summary>The DLL's access check before every open: the node's attributes and security descriptor.</summary>
    public int GetSecurityByName(char* fileName, uint* attributes, void* descriptor, nuint* descriptorSize)
    {
        int status = Resolve(Text(fileName), out var info, out int reparseIndex);
        if (status == NtStatus.Reparse)
        {
            if (attributes != null)
            {
                *attributes = (uint)reparseIndex;
            }

            return status;
        }

        if (status != NtStatus.Success)
        {
            return status;
        }

        if (attributes != null)
        {
            FspFileInfo fileInfo;
            Fill(info, Text(fileName), &fileInfo);
            *attributes = fileInfo.FileAttributes;
        }

        return descriptorSize == null ? NtStatus.Success : CopyDescriptor(descriptor, descriptorSize);
    }

    public int Open(char* fileName, uint createOptions, uint grantedAccess, nint* context, OpenFileInfo* openInfo)
    {
        var path = Text(fileName);
        int status = Resolve(path, out var info, out _);
        if (status != NtStatus.Success)
        {
            // Crossing a link is the DLL's to resolve (GetSecurityByName said REPARSE); here it is only missing.
            return status == NtStatus.Reparse ? NtStatus.ObjectPathNotFound : status;
        }

        // The DLL refuses these already from the security descriptor and READONLY, but not for callers in
        // kernel mode: a read-only tree refuses them itself.
        if ((grantedAccess & WriteAccess) != 0)
        {
            return NtStatus.AccessDenied;
        }

        if ((createOptions & FileDeleteOnClose) != 0)
        {
            return NtStatus.CannotDelete;
        }

        bool isDirectory = info.Node.Kind == NodeKind.Directory;
        if ((createOptions & FileDirectoryFile) != 0 && info.Node.Kind == NodeKind.File)
        {
            return NtStatus.NotADirectory;
        }

        if ((createOptions & FileNonDirectoryFile) != 0 && isDirectory)
        {
            return NtStatus.FileIsADirectory;
        }

        DirectoryEntry[]? listing = null;
        if (isDirectory)
        {
            // Taken at open, so that a listing the driver continues after a marker sees one set of names.
            var error = _tree.List(info.Node, out listing);
            if (error == Errno.EPERM)
            {
                listing = null;
            }
            else if (error != Errno.None)
            {
                return NtStatus.From(error);
            }
        }

        Fill(info, path, &openInfo->FileInfo);
        *context = (nint)_open.Add(new OpenItem(path.ToString(), info, listing));
        return NtStatus.Success;
    }

    public void Close(nint context)
    {
        if (_open.Remove((ulong)context) is { } item)
        {
            _tree.Release(item.TakeBlob());
        }
    }

    public int GetFileInfo(nint context, FspFileInfo* fileInfo)
    {
        if (Item(context) is not { } item)
        {
            return NtStatus.InvalidHandle;
        }

        Fill(item.Info, item.Path, fileInfo);
        return NtStatus.Success;
    }

    public int GetSecurity(nint context, void* descriptor, nuint* descriptorSize) =>
        Item(context) is null ? NtStatus.InvalidHandle : descriptorSize == null ? NtStatus.Success : CopyDescriptor(descriptor, descriptorSize);

    /// <summary>Reads what is asked and nothing more; END_OF_FILE at or past the end, as WinFsp expects.</summary>
    public int Read(nint context, void* buffer, ulong offset, uint length, uint* transferred)
    {
        *transferred = 0;
        if (Item(context) is not { } item)
        {
            return NtStatus.InvalidHandle;
        }

        var node = item.Info.Node;
        if (node.Kind == NodeKind.Directory)
        {
            return NtStatus.FileIsADirectory;
        }

        if (node.Kind != NodeKind.File || offset >= node.Size)
        {
            return NtStatus.EndOfFile;
        }

        ulong blob = item.Blob;
        if (blob == 0)
        {
            var error = _tree.OpenFile(node, out var opened);
            if (error != Errno.None)
            {
                return NtStatus.From(error);
            }

            blob = item.SetBlob(opened);
            if (blob != opened)
            {
                _tree.Release(opened);
            }
        }

        int want = (int)Math.Min(length, node.Size - offset);
        var read = _tree.ReadFile(blob, (long)offset, new Span<byte>(buffer, want), out int count);
        *transferred = (uint)count;
        return NtStatus.From(read);
    }

    /// <summary>Nothing is ever written, so a flush has nothing to do; a file's flush answers its unchanged FILE_INFO.</summary>
    public int Flush(nint context, FspFileInfo* fileInfo) => context == 0 ? NtStatus.Success : GetFileInfo(context, fileInfo);

    public void DispatcherStopped(bool normally)
    {
        if (!normally)
        {
            _stopped.TrySetResult();
        }
    }

    private static int CopyDescriptor(void* descriptor, nuint* size)
    {
        var sd = SecurityDescriptors.ReadExecute;
        if (descriptor == null || *size < (nuint)sd.Length)
        {
            *size = (nuint)sd.Length;
            return descriptor == null ? NtStatus.Success : NtStatus.BufferOverflow;
        }

        sd.CopyTo(new Span<byte>(descriptor, sd.Length));
        *size = (nuint)sd.Length;
        return NtStatus.Success;
    }

    internal static ReadOnlySpan<char> Text(char* s) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s);
}
