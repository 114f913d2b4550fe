namespace CastoreFs.Core.Tests;

/// <summary>A fresh directory under /tmp, removed with everything in it.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        // Short paths: unix socket paths must stay under 108 bytes.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
