namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>The files of a binary cache (narinfos and NARs), wherever it is kept.</summary>
internal interface IBinaryCacheFiles : IDisposable
{
    /// <summary>The file, read from its start, or null when the cache has no such file.</summary>
    /// <exception cref="BinaryCacheException">The cache failed to answer or refused.</exception>
    Task<Stream?> OpenAsync(Uri location, CancellationToken ct);

    static IBinaryCacheFiles For(BinaryCacheUrl cache) =>
        cache.Location.IsFile ? new LocalBinaryCacheFiles() : new HttpBinaryCacheFiles(cache.Timeout);
}
