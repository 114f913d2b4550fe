namespace CastoreFs.Platforms.Linux;

public sealed record LinuxMountOptions
{
    /// <summary>Let users other than the one who mounts see the tree (non-root needs user_allow_other in /etc/fuse.conf).</summary>
    public bool AllowOther { get; init; }

    /// <summary>
    /// Worker threads, each reading requests on its own cloned /dev/fuse fd. More than the cores: a worker
    /// reading a large blob the disk has not read ahead waits on it, and eight answer all of the mount's
    /// 8 MiB readahead at once.
    /// </summary>
    public int Threads { get; init; } = Math.Max(8, Environment.ProcessorCount);

    /// <summary>Hand whole local blob files to the kernel (FUSE passthrough) when root and the kernel offers it.</summary>
    public bool Passthrough { get; init; } = true;

    /// <summary>
    /// The mount's bdi readahead, raised when root: the kernel's 128 KiB default caps every READ at 128 KiB
    /// (measured on kernel 6.18). 8 MiB is eight 1 MiB READs in flight, one for each worker.
    /// </summary>
    public int ReadAheadKiB { get; init; } = 8192;

    public string FileSystemName { get; init; } = "castorefs";
}
