using Microsoft.Extensions.Logging;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>How a store opened over a Nix binary cache reports and reaches ahead.</summary>
public sealed record BinaryCacheOptions
{
    /// <summary>Fetches are logged at information level, retries and refusals as warnings.</summary>
    public ILoggerFactory? Logging { get; init; }

    /// <summary>Bytes of each NAR as they arrive, for a progress bar.</summary>
    public IProgress<NarFetchProgress>? Progress { get; init; }

    /// <summary>
    /// How many references of a looked-up path are fetched at once in the background, closure-wide;
    /// 0 fetches only what is looked up (one-shot commands that exit after one path).
    /// </summary>
    public int PrefetchConcurrency { get; init; } = 4;
}

/// <summary>A NAR being fetched: its decompressed bytes so far of <see cref="NarSize"/>; <see cref="Done"/> once it is in or failed.</summary>
public readonly record struct NarFetchProgress(string StorePath, long Bytes, ulong NarSize, bool Done);
