namespace CastoreFs.Platforms.Linux;

public sealed record LinuxMountOptions
{
    /// <summary>Let users other than the one who mounts see the tree (non-root needs user_allow_other in /etc/fuse.conf).</summary>
    public bool AllowOther { get; init; }

    /// <summary>Worker threads, each reading requests on its own cloned /dev/fuse fd.</summary>
    public int Threads { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Hand whole local blob files to the kernel (FUSE passthrough) when root and the kernel offers it.</summary>
    public bool Passthrough { get; init; } = true;

    /// <summary>The mount's bdi readahead, raised when root: the kernel's 128 KiB default caps every READ at 128 KiB (fuse.md §1.5).</summary>
    public int ReadAheadKiB { get; init; } = 1024;

    public string FileSystemName { get; init; } = "castorefs";
}
