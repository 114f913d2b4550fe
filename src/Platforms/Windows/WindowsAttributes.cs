namespace CastoreFs.Platforms.Windows;

/// <summary>FILE_ATTRIBUTE_* (winnt.h) the drive shows.</summary>
internal static class WindowsAttributes
{
    public const uint ReadOnly = 0x1;
    public const uint Directory = 0x10;
    public const uint ReparsePoint = 0x400;
}
