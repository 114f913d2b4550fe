namespace CastoreFs.Virtio;

public sealed record VirtioFsOptions
{
    /// <summary>After the front-end disconnects, wait for the next one instead of ending.</summary>
    public bool KeepListening { get; init; }

    /// <summary>
    /// Workers per request queue: a chain that waits on the store (a cold blob, a remote fetch) does not
    /// hold up the chains behind it. The hiprio queue (FORGET only) has one.
    /// </summary>
    public int Threads { get; init; } = 4;
}
