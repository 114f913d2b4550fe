using System.IO.Hashing;
using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Platforms.Windows;

/// <summary>The volume a read-only content-addressed tree is.</summary>
internal static class VolumeParameters
{
    /// <summary>The file system's name as Windows reports it.</summary>
    public const string FileSystemName = "CastoreFs";

    /// <summary>
    /// Case-sensitive, case-preserving Unicode names, ACLs, symlinks, read-only, per-handle contexts, and
    /// exact-name lookups answered without listings. FILE_INFO never times out (content never changes),
    /// which lets the cache manager keep data; listings time out after a second, because a store's root
    /// gains names as paths are imported.
    /// </summary>
    public static unsafe VolumeParams ReadOnlyTree(in TreeNode root, string? volumePrefix = null)
    {
        var parameters = new VolumeParams
        {
            Version = VolumeParams.SizeV1,
            SectorSize = 4096,
            SectorsPerAllocationUnit = 1,
            MaxComponentLength = WindowsNames.MaxChars,
            VolumeCreationTime = WinFspFileSystem.NodeTime,
            VolumeSerialNumber = root.Digest is { } digest ? (uint)XxHash3.HashToUInt64(digest.Span) : 0xCA57_0F5Eu,
            FileInfoTimeout = uint.MaxValue,
            Flags = VolumeFlags.CaseSensitiveSearch | VolumeFlags.CasePreservedNames | VolumeFlags.UnicodeOnDisk
                | VolumeFlags.PersistentAcls | VolumeFlags.ReparsePoints | VolumeFlags.ReadOnlyVolume
                | VolumeFlags.PostCleanupWhenModifiedOnly | VolumeFlags.PassQueryDirectoryFileName | VolumeFlags.UmFileContextIsUserContext2,
            TimeoutFlags = VolumeTimeoutFlags.DirInfoTimeoutValid,
            DirInfoTimeout = 1000,
        };
        FileSystemName.CopyTo(new Span<char>(parameters.FileSystemName, VolumeParams.FileSystemNameChars));
        if (volumePrefix is { Length: > 0 })
        {
            if (volumePrefix.Length >= VolumeParams.PrefixChars)
            {
                throw new ArgumentException($"the volume prefix is longer than {VolumeParams.PrefixChars - 1} characters", nameof(volumePrefix));
            }

            volumePrefix.CopyTo(new Span<char>(parameters.Prefix, VolumeParams.PrefixChars));
        }

        return parameters;
    }
}
