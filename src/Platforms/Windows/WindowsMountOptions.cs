namespace CastoreFs.Platforms.Windows;

public sealed record WindowsMountOptions
{
    /// <summary>Dispatcher threads; 0 lets WinFsp choose (one per CPU, 4 to 16).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The UNC prefix (<c>\castorefs\store</c>) that makes the drive a network drive, as WinFsp's launcher
    /// asks for it (its %1) when <c>net use S: \castorefs\store</c> starts us; null for a disk drive.
    /// </summary>
    public string? VolumePrefix { get; init; }
}
