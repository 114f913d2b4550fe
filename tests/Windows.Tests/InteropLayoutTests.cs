using System.Runtime.InteropServices;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Windows.Tests;

/// <summary>The x64 layouts WinFsp's headers assert (fsctl.h, winfsp.h), checked field by field.</summary>
[TestClass]
public sealed unsafe class InteropLayoutTests
{
    [TestMethod]
    public void Structs_have_the_sizes_of_winfsp_headers()
    {
        Assert.AreEqual(504, sizeof(VolumeParams));
        Assert.AreEqual(88, sizeof(VolumeInfo));
        Assert.AreEqual(72, sizeof(FspFileInfo));
        Assert.AreEqual(88, sizeof(OpenFileInfo));
        Assert.AreEqual(104, sizeof(DirInfo));
        Assert.AreEqual(792, sizeof(FileSystemHeader));
        Assert.AreEqual(20, sizeof(SymlinkReparseHeader));
        Assert.AreEqual(16, sizeof(IoStatusBlock));
    }

    [TestMethod]
    public void Fields_sit_at_winfsp_offsets()
    {
        Expect<VolumeParams>(("Version", 0), ("SectorSize", 2), ("SectorsPerAllocationUnit", 4), ("MaxComponentLength", 6), ("VolumeCreationTime", 8),
            ("VolumeSerialNumber", 16), ("TransactTimeout", 20), ("IrpTimeout", 24), ("IrpCapacity", 28), ("FileInfoTimeout", 32), ("Flags", 36),
            ("Prefix", 40), ("FileSystemName", 424), ("TimeoutFlags", 456), ("VolumeInfoTimeout", 460), ("DirInfoTimeout", 464),
            ("SecurityTimeout", 468), ("StreamInfoTimeout", 472), ("EaTimeout", 476), ("FsextControlCode", 480));
        Expect<VolumeInfo>(("TotalSize", 0), ("FreeSize", 8), ("VolumeLabelLength", 16), ("VolumeLabel", 18));
        Expect<FspFileInfo>(("FileAttributes", 0), ("ReparseTag", 4), ("AllocationSize", 8), ("FileSize", 16), ("CreationTime", 24),
            ("LastAccessTime", 32), ("LastWriteTime", 40), ("ChangeTime", 48), ("IndexNumber", 56), ("HardLinks", 64), ("EaSize", 68));
        Expect<OpenFileInfo>(("FileInfo", 0), ("NormalizedName", 72), ("NormalizedNameSize", 80));
        Expect<DirInfo>(("Size", 0), ("FileInfo", 8), ("NextOffset", 80));
        Expect<FileSystemHeader>(("Version", 0), ("UserContext", 8), ("VolumeName", 16), ("Interface", 728), ("MountPoint", 752));
        Expect<SymlinkReparseHeader>(("ReparseTag", 0), ("ReparseDataLength", 4), ("Reserved", 6), ("SubstituteNameOffset", 8),
            ("SubstituteNameLength", 10), ("PrintNameOffset", 12), ("PrintNameLength", 14), ("Flags", 16));
    }

    [TestMethod]
    public void Interface_slots_are_numbered_as_in_winfsp_h()
    {
        Assert.AreEqual(2, (int)InterfaceSlot.GetSecurityByName);
        Assert.AreEqual(8, (int)InterfaceSlot.Read);
        Assert.AreEqual(18, (int)InterfaceSlot.ReadDirectory);
        Assert.AreEqual(24, (int)InterfaceSlot.GetDirInfoByName);
        Assert.AreEqual(32, (int)InterfaceSlot.DispatcherStopped);
        Assert.AreEqual(64, (int)InterfaceSlot.Count);
    }

    [TestMethod]
    public void The_volume_flags_are_the_read_only_set()
    {
        var parameters = Platforms.Windows.VolumeParameters.ReadOnlyTree(default);
        Assert.AreEqual(0x0001261Fu, (uint)parameters.Flags, "case-sensitive, case-preserving, Unicode, ACLs, reparse points, read-only, user context 2");
        Assert.AreEqual(504, parameters.Version);
        Assert.AreEqual(uint.MaxValue, parameters.FileInfoTimeout, "content never changes: the cache manager keeps it");
        Assert.AreEqual(0, (int)(parameters.Flags & VolumeFlags.HardLinks));
        Assert.AreEqual("CastoreFs", new string(parameters.FileSystemName).TrimEnd('\0'));
    }

    [TestMethod]
    public void A_volume_prefix_makes_the_unc_name_winfsp_s_launcher_asked_for()
    {
        var parameters = Platforms.Windows.VolumeParameters.ReadOnlyTree(default, @"\castorefs\store");
        Assert.AreEqual(@"\castorefs\store", new string(parameters.Prefix).TrimEnd('\0'));
        Assert.ThrowsExactly<ArgumentException>(() => Platforms.Windows.VolumeParameters.ReadOnlyTree(default, new string('x', 192)));
        var disk = Platforms.Windows.VolumeParameters.ReadOnlyTree(default);
        Assert.AreEqual(string.Empty, new string(disk.Prefix).TrimEnd('\0'), "a disk drive has none");
    }

    private static void Expect<T>(params (string Field, int Offset)[] fields)
    {
        foreach (var (field, offset) in fields)
        {
            Assert.AreEqual(offset, (int)Marshal.OffsetOf<T>(field), $"{typeof(T).Name}.{field}");
        }
    }
}
