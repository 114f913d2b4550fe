using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Filesystem;

public sealed record FileSystemOptions
{
    /// <summary>Let readdir list the store's roots; off by default because listing a large store is expensive.</summary>
    public bool ListRoot { get; init; }

    /// <summary>Mount this directory as the root instead of the store's path infos.</summary>
    public B3Digest? RootDirectory { get; init; }

    /// <summary>
    /// Drop a whole local blob file's pages from the page cache once reads are 8 MiB past them, so a blob
    /// larger than that is cached once. Right for a FUSE mount, whose page cache on this host keeps what
    /// it reads. Off for a virtiofs guest: its cache is guest memory, which a guest gives up first, and
    /// the host's page cache is what serves its reads again, and other guests'.
    /// </summary>
    public bool DropBehindLargeReads { get; init; } = true;

    /// <summary>How long one call to the store may take before the request fails with EIO instead of hanging.</summary>
    public TimeSpan StoreTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What statfs shows.</summary>
public readonly record struct FileSystemStatistics(ulong Inodes, uint BlockSize, uint MaxNameLength);
