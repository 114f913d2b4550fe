namespace CastoreFs.Platforms.Windows;

public sealed record WindowsMountOptions
{
    /// <summary>Dispatcher threads; 0 lets WinFsp choose (one per CPU, 4 to 16).</summary>
    public int Threads { get; init; }
}
