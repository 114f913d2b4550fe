namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>A binary cache in a folder (<c>nix copy --to file://…</c>).</summary>
internal sealed class LocalBinaryCacheFiles : IBinaryCacheFiles
{
    public Task<Stream?> OpenAsync(Uri location, CancellationToken ct)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(
                location.LocalPath, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.Asynchronous | FileOptions.SequentialScan }));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public void Dispose()
    {
    }
}
