using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CastoreFs.Core.IO.Interop;

namespace CastoreFs.Core.Import;

public enum FileKind
{
    Regular,
    Directory,
    Symlink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// <summary>A path's type, permission bits and size, read without following a final symlink.</summary>
public readonly record struct FileStatus(FileKind Kind, uint Mode, ulong Size)
{
    /// <summary>Nix's rule: executable when the owner may execute.</summary>
    public bool IsExecutable => (Mode & 0x40) != 0;

    public static unsafe FileStatus Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Portable(path);
        }

        byte* buffer = stackalloc byte[LinuxStatx.BufferSize];
        if (LinuxStatx.Statx(LinuxStatx.AtFdCwd, path, LinuxStatx.AtSymlinkNoFollow, LinuxStatx.StatxType | LinuxStatx.StatxMode | LinuxStatx.StatxSize, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ImportException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var bytes = new ReadOnlySpan<byte>(buffer, LinuxStatx.BufferSize);
        uint mode = BinaryPrimitives.ReadUInt16LittleEndian(bytes[LinuxStatx.ModeOffset..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(bytes[LinuxStatx.SizeOffset..]);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            _ => FileKind.Socket,
        };
        return new FileStatus(kind, mode & 0xFFF, size);
    }

    private static FileStatus Portable(string path)
    {
        FileSystemInfo info = System.IO.Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists)
        {
            throw new ImportException($"{path}: no such file or directory");
        }

        if (info.LinkTarget is not null)
        {
            return new FileStatus(FileKind.Symlink, 0x1FF, 0);
        }

        return info is FileInfo file ? new FileStatus(FileKind.Regular, 0x1A4, (ulong)file.Length) : new FileStatus(FileKind.Directory, 0x1ED, 0);
    }
}
