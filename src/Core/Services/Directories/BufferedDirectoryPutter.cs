using CastoreFs.Core.Digests;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>Validates as directories arrive and stores the whole closure at once when it is closed.</summary>
public sealed class BufferedDirectoryPutter(Func<IReadOnlyList<(B3Digest Digest, Directory Directory)>, Task> store)
    : IDirectoryPutter
{
    private readonly ClosureValidator _validator = new();

    public ValueTask PutAsync(Directory directory, CancellationToken ct = default)
    {
        _validator.Add(directory);
        return ValueTask.CompletedTask;
    }

    public async Task<B3Digest> CloseAsync(CancellationToken ct = default)
    {
        var root = _validator.Finish();
        await store(_validator.Accepted).ConfigureAwait(false);
        return root;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
