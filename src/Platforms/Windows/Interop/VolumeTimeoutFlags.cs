namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>The V1 flag word of FSP_FSCTL_VOLUME_PARAMS: which per-kind timeouts replace FileInfoTimeout.</summary>
[Flags]
internal enum VolumeTimeoutFlags : uint
{
    None = 0,
    VolumeInfoTimeoutValid = 1 << 0,
    DirInfoTimeoutValid = 1 << 1,
    SecurityTimeoutValid = 1 << 2,
    StreamInfoTimeoutValid = 1 << 3,
    EaTimeoutValid = 1 << 4,
}
