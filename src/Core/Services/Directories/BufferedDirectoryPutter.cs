using CastoreFs.Core.Digests;
using Google.Protobuf;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>
/// Validates directories as they arrive and stores the closure at once when it is closed, so a rejected
/// closure stores nothing. It keeps them encoded, in memory up to <see cref="InMemoryBytes"/> and beyond
/// that in a file in <paramref name="spillFolder"/> (when given), so a large closure costs the validator's
/// few dozen bytes per directory in memory, not the directories.
/// </summary>
public sealed class BufferedDirectoryPutter(Func<IEnumerable<(B3Digest Digest, byte[] Encoded)>, Task> store, string? spillFolder = null)
    : IDirectoryPutter
{
    private const int InMemoryBytes = 8 * 1024 * 1024;

    private readonly ClosureValidator _validator = new();
    private readonly List<(B3Digest Digest, byte[] Encoded)> _held = [];
    private long _heldBytes;
    private FileStream? _spill;

    public async ValueTask PutAsync(Directory directory, CancellationToken ct = default)
    {
        var (digest, isNew) = _validator.Add(directory);
        if (!isNew)
        {
            return;
        }

        var encoded = directory.ToByteArray();
        if (_spill is null && (spillFolder is null || _heldBytes + encoded.Length <= InMemoryBytes))
        {
            _held.Add((digest, encoded));
            _heldBytes += encoded.Length;
            return;
        }

        var spill = _spill ??= Spill();
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, encoded.Length);
        await spill.WriteAsync(digest.Span.ToArray(), ct).ConfigureAwait(false);
        await spill.WriteAsync(length, ct).ConfigureAwait(false);
        await spill.WriteAsync(encoded, ct).ConfigureAwait(false);
    }

    public async Task<B3Digest> CloseAsync(CancellationToken ct = default)
    {
        var root = _validator.Finish();
        await store(Accepted()).ConfigureAwait(false);
        return root;
    }

    public ValueTask DisposeAsync()
    {
        // Opened DeleteOnClose: disposing it removes the file.
        _spill?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The accepted directories in the order they came: those held in memory, then those spilled.</summary>
    private IEnumerable<(B3Digest Digest, byte[] Encoded)> Accepted()
    {
        foreach (var held in _held)
        {
            yield return held;
        }

        if (_spill is not { } spill)
        {
            yield break;
        }

        spill.Flush();
        spill.Position = 0;
        var digest = new byte[B3Digest.Length];
        var length = new byte[4];
        while (spill.Position < spill.Length)
        {
            spill.ReadExactly(digest);
            spill.ReadExactly(length);
            var encoded = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(length)];
            spill.ReadExactly(encoded);
            yield return (new B3Digest(digest), encoded);
        }
    }

    private FileStream Spill()
    {
        System.IO.Directory.CreateDirectory(spillFolder!);
        return new FileStream(
            Path.Combine(spillFolder!, "closure-" + Guid.NewGuid().ToString("N")),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
    }
}
