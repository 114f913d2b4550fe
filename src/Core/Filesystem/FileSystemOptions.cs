using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Filesystem;

public sealed record FileSystemOptions
{
    /// <summary>Let readdir list the store's roots; off by default because listing a large store is expensive.</summary>
    public bool ListRoot { get; init; }

    /// <summary>Mount this directory as the root instead of the store's path infos.</summary>
    public B3Digest? RootDirectory { get; init; }

    /// <summary>
    /// Read blobs of 8 MiB and more around the host's page cache (O_DIRECT) when they are whole local
    /// files. Right for a FUSE mount, whose page cache on this host keeps what it reads. Off for a
    /// virtiofs guest: its reads come in its own small readahead windows, and the host's readahead is
    /// what keeps the disk ahead of them.
    /// </summary>
    public bool UnbufferedLargeReads { get; init; } = true;

    /// <summary>How long one call to the store may take before the request fails with EIO instead of hanging.</summary>
    public TimeSpan StoreTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What statfs shows.</summary>
public readonly record struct FileSystemStatistics(ulong Inodes, uint BlockSize, uint MaxNameLength);
