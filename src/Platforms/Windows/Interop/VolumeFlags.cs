namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>The flag word of FSP_FSCTL_VOLUME_PARAMS (fsctl.h bit fields, least significant first), the bits a read-only tree uses.</summary>
[Flags]
internal enum VolumeFlags : uint
{
    None = 0,
    CaseSensitiveSearch = 1 << 0,
    CasePreservedNames = 1 << 1,
    UnicodeOnDisk = 1 << 2,
    PersistentAcls = 1 << 3,
    ReparsePoints = 1 << 4,
    ReparsePointsAccessCheck = 1 << 5,
    NamedStreams = 1 << 6,
    HardLinks = 1 << 7,
    ExtendedAttributes = 1 << 8,
    ReadOnlyVolume = 1 << 9,
    PostCleanupWhenModifiedOnly = 1 << 10,
    PassQueryDirectoryPattern = 1 << 11,
    AlwaysUseDoubleBuffering = 1 << 12,
    PassQueryDirectoryFileName = 1 << 13,
    FlushAndPurgeOnCleanup = 1 << 14,
    DeviceControl = 1 << 15,
    UmFileContextIsUserContext2 = 1 << 16,
    UmFileContextIsFullContext = 1 << 17,
}
