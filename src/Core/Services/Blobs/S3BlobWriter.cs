using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A blob for <see cref="S3BlobService"/>: each 1 MiB group is hashed as a subtree as it fills, so the
/// commit has the digest and the outboard without reading the blob again. A blob of one group stays in
/// memory; a larger one is kept in a temp file (deleted on close) until it is uploaded.
/// </summary>
internal sealed class S3BlobWriter(S3BlobService service) : IBlobWriter
{
    private readonly byte[] _group = new byte[Outboard.GroupSize];
    private readonly List<byte[]> _chainingValues = [];
    private int _groupLength;
    private FileStream? _spill;
    private bool _committed;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        while (!data.IsEmpty)
        {
            if (_groupLength == _group.Length)
            {
                await EndGroupAsync(ct).ConfigureAwait(false);
            }

            int take = Math.Min(data.Length, _group.Length - _groupLength);
            data.Span[..take].CopyTo(_group.AsSpan(_groupLength));
            _groupLength += take;
            data = data[take..];
        }
    }

    public async Task<B3Digest> CommitAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _committed = true;
        if (_spill is null)
        {
            var digest = Blake3Hasher.Hash(_group.AsSpan(0, _groupLength));
            using var whole = new MemoryStream(_group, 0, _groupLength, writable: false);
            await service.StoreAsync(digest, null, whole, ct).ConfigureAwait(false);
            return digest;
        }

        await EndGroupAsync(ct).ConfigureAwait(false);
        var outboard = Outboard.Create(_chainingValues.SelectMany(cv => cv).ToArray(), out var blob);
        _spill.Position = 0;
        await service.StoreAsync(blob, outboard, _spill, ct).ConfigureAwait(false);
        return blob;
    }

    public ValueTask DisposeAsync()
    {
        _committed = true;
        return _spill?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>Hashes the full group as the subtree it is and moves it to the temp file.</summary>
    private async Task EndGroupAsync(CancellationToken ct)
    {
        var chainingValue = new byte[B3Digest.Length];
        Outboard.GroupChainingValue(_group.AsSpan(0, _groupLength), _chainingValues.Count, chainingValue);
        _chainingValues.Add(chainingValue);
        _spill ??= new FileStream(
            Path.Combine(Path.GetTempPath(), "castorefs-s3-" + Guid.NewGuid().ToString("N")),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 0, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await _spill.WriteAsync(_group.AsMemory(0, _groupLength), ct).ConfigureAwait(false);
        _groupLength = 0;
    }
}
