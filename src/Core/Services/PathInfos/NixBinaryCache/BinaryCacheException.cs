namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// A binary cache that failed or was refused: unreachable or erring (<see cref="Transient"/>, worth
/// another try), or serving something that does not verify (never retried).
/// </summary>
public sealed class BinaryCacheException(string message, bool transient = false, Exception? inner = null) : IOException(message, inner)
{
    public bool Transient { get; } = transient;
}
