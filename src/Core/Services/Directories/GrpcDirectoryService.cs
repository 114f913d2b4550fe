using System.Runtime.CompilerServices;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Model;
using Grpc.Core;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Services.Directories;

/// <summary>
/// Directories from a remote store over gRPC. Every directory received is re-hashed and must be one that
/// was asked for or announced by a parent already received.
/// </summary>
public sealed class GrpcDirectoryService(GrpcConnection connection) : IDirectoryService
{
    public async Task<Directory?> GetAsync(B3Digest digest, CancellationToken ct = default)
    {
        try
        {
            return await connection.CallAsync(async m =>
            {
                using var call = connection.Stream(m.DirectoryGet, new GetDirectoryRequest { Digest = digest.ToByteString() }, ct);
                if (!await call.MoveNextAsync().ConfigureAwait(false))
                {
                    return null;
                }

                var directory = call.Current;
                CheckReceived(directory, digest);
                return directory;
            }).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<Directory> GetRecursiveAsync(B3Digest root, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await connection.NegotiateAsync(m => GetAsync(root, ct)).ConfigureAwait(false);
        using var call = connection.Stream(connection.Methods.DirectoryGet, new GetDirectoryRequest { Digest = root.ToByteString(), Recursive = true }, ct);
        var expected = new HashSet<B3Digest> { root };
        var received = new HashSet<B3Digest>();
        while (true)
        {
            try
            {
                if (!await call.MoveNextAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && received.Count == 0)
            {
                yield break;
            }

            var directory = call.Current;
            var digest = directory.Digest();
            if (!expected.Contains(digest) || !received.Add(digest))
            {
                throw new CastoreValidationException($"{connection.Display}: sent directory {digest.ToHex()}, which no parent announced");
            }

            directory.Validate();
            foreach (var child in directory.Directories)
            {
                expected.Add(new B3Digest(child.Digest.Span));
            }

            yield return directory;
        }

        if (received.Count > 0 && received.Count != expected.Count)
        {
            throw new CastoreValidationException($"{connection.Display}: {expected.Count - received.Count} directories below {root.ToHex()} were not sent");
        }
    }

    public IDirectoryPutter BeginPut() => new Putter(connection);

    private void CheckReceived(Directory directory, B3Digest expected)
    {
        var actual = directory.Digest();
        if (actual != expected)
        {
            throw new CastoreValidationException($"{connection.Display}: asked for directory {expected.ToHex()}, received {actual.ToHex()}");
        }

        directory.Validate();
    }

    /// <summary>Streams the closure to the server as it comes, validating it on this side as well.</summary>
    private sealed class Putter(GrpcConnection connection) : IDirectoryPutter
    {
        private readonly ClosureValidator _validator = new();
        private AsyncClientStreamingCall<Directory, PutDirectoryResponse>? _call;

        public async ValueTask PutAsync(Directory directory, CancellationToken ct = default)
        {
            if (!_validator.Add(directory).IsNew)
            {
                return;
            }

            var call = await StartAsync(ct).ConfigureAwait(false);
            await call.RequestStream.WriteAsync(directory, ct).ConfigureAwait(false);
        }

        public async Task<B3Digest> CloseAsync(CancellationToken ct = default)
        {
            var root = _validator.Finish();
            var call = await StartAsync(ct).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            var response = await call.ResponseAsync.WaitAsync(connection.Timeout, ct).ConfigureAwait(false);
            if (B3Digest.FromProto(response.RootDigest, "root_digest") != root)
            {
                throw new CastoreValidationException($"{connection.Display}: stored root {Convert.ToHexStringLower(response.RootDigest.Span)}, expected {root.ToHex()}");
            }

            return root;
        }

        public ValueTask DisposeAsync()
        {
            _call?.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task<AsyncClientStreamingCall<Directory, PutDirectoryResponse>> StartAsync(CancellationToken ct)
        {
            _call ??= await connection.StartClientStreamingAsync(
                async m =>
                {
                    using var probe = connection.Stream(m.DirectoryGet, new GetDirectoryRequest { Digest = B3Digest.Empty.ToByteString() }, ct);
                    await probe.MoveNextAsync().ConfigureAwait(false);
                },
                m => m.DirectoryPut,
                ct).ConfigureAwait(false);
            return _call;
        }
    }
}
