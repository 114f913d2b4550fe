using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using Google.Protobuf;
using Grpc.Core;
using Snix.Castore.V1;
using Snix.Store.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Server;

/// <summary>
/// The three castore/store services over any <see cref="CastoreStore"/>, under both package names.
/// Every put is checked here: closures by the putter's validator, blobs hashed on this side, path infos
/// validated and their root present.
/// </summary>
internal sealed class CastoreGrpcService(CastoreStore store, RequestFailures failures)
{
    private const int ReadMessageSize = 256 * 1024;

    public Task<StatBlobResponse> StatBlob(StatBlobRequest request, ServerCallContext context) => Guard(context, async () =>
    {
        var details = (request.SendChunks ? BlobDetails.Chunks : BlobDetails.None) | (request.SendBao ? BlobDetails.Outboard : BlobDetails.None);
        var stat = await store.Blobs.StatAsync(Digest(request.Digest), details, context.CancellationToken).ConfigureAwait(false)
            ?? throw NotFound("blob", request.Digest);
        var response = new StatBlobResponse();
        if (request.SendChunks)
        {
            response.Chunks.AddRange(stat.Chunks.Select(c => new StatBlobResponse.Types.ChunkMeta { Digest = c.Digest.ToByteString(), Size = c.Size }));
        }

        if (request.SendBao)
        {
            response.Bao = ByteString.CopyFrom(stat.Outboard.Span);
        }

        return response;
    });

    public Task ReadBlob(ReadBlobRequest request, IServerStreamWriter<BlobChunk> responses, ServerCallContext context) => Guard(context, async () =>
    {
        await using var blob = await store.Blobs.OpenReadAsync(Digest(request.Digest), context.CancellationToken).ConfigureAwait(false)
            ?? throw NotFound("blob", request.Digest);
        var buffer = new byte[ReadMessageSize];
        int n;
        while ((n = await blob.ReadAsync(buffer, context.CancellationToken).ConfigureAwait(false)) > 0)
        {
            await responses.WriteAsync(new BlobChunk { Data = ByteString.CopyFrom(buffer, 0, n) }, context.CancellationToken).ConfigureAwait(false);
        }

        return true;
    });

    public Task<PutBlobResponse> PutBlob(IAsyncStreamReader<BlobChunk> requests, ServerCallContext context) => Guard(context, async () =>
    {
        await using var writer = store.Blobs.OpenWrite();
        await foreach (var chunk in requests.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await writer.WriteAsync(chunk.Data.Memory, context.CancellationToken).ConfigureAwait(false);
        }

        var digest = await writer.CommitAsync(context.CancellationToken).ConfigureAwait(false);
        return new PutBlobResponse { Digest = digest.ToByteString() };
    });

    public Task GetDirectory(GetDirectoryRequest request, IServerStreamWriter<Directory> responses, ServerCallContext context) => Guard(context, async () =>
    {
        if (request.ByWhatCase != GetDirectoryRequest.ByWhatOneofCase.Digest)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "by_what is not set"));
        }

        var digest = Digest(request.Digest);
        if (!request.Recursive)
        {
            var directory = await store.Directories.GetAsync(digest, context.CancellationToken).ConfigureAwait(false)
                ?? throw NotFound("directory", request.Digest);
            await responses.WriteAsync(directory, context.CancellationToken).ConfigureAwait(false);
            return true;
        }

        bool any = false;
        await foreach (var directory in store.Directories.GetRecursiveAsync(digest, context.CancellationToken).ConfigureAwait(false))
        {
            any = true;
            await responses.WriteAsync(directory, context.CancellationToken).ConfigureAwait(false);
        }

        return any ? true : throw NotFound("directory", request.Digest);
    });

    public Task<PutDirectoryResponse> PutDirectory(IAsyncStreamReader<Directory> requests, ServerCallContext context) => Guard(context, async () =>
    {
        await using var putter = store.Directories.BeginPut();
        await foreach (var directory in requests.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await putter.PutAsync(directory, context.CancellationToken).ConfigureAwait(false);
        }

        var root = await putter.CloseAsync(context.CancellationToken).ConfigureAwait(false);
        return new PutDirectoryResponse { RootDigest = root.ToByteString() };
    });

    public Task<PathInfo> GetPathInfo(GetPathInfoRequest request, ServerCallContext context) => Guard(context, async () =>
    {
        if (request.ByWhatCase != GetPathInfoRequest.ByWhatOneofCase.ByOutputHash)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "by_what is not set"));
        }

        if (request.ByOutputHash.Length != Core.Nix.StorePath.DigestLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"by_output_hash must be {Core.Nix.StorePath.DigestLength} bytes"));
        }

        return await store.PathInfos.GetAsync(request.ByOutputHash.Memory, context.CancellationToken).ConfigureAwait(false)
            ?? throw NotFound("path info", request.ByOutputHash);
    });

    public Task<PathInfo> PutPathInfo(PathInfo request, ServerCallContext context) => Guard(context, async () =>
    {
        request.Validate();
        await RequireRootAsync(request.Node, context.CancellationToken).ConfigureAwait(false);
        return await store.PathInfos.PutAsync(request, context.CancellationToken).ConfigureAwait(false);
    });

    public Task<CalculateNARResponse> CalculateNar(Node request, ServerCallContext context) => Guard(context, async () =>
    {
        // The node is anonymous (its name is ignored, as the seed does); validate the rest under a stand-in name.
        NodeRules.Validate(NodeRules.WithName(request, ByteString.CopyFromUtf8("x")));
        var (size, sha256) = await new NarRenderer(store.Blobs, store.Directories).CalculateAsync(request, context.CancellationToken).ConfigureAwait(false);
        return new CalculateNARResponse { NarSize = size, NarSha256 = ByteString.CopyFrom(sha256) };
    });

    public Task ListPathInfos(ListPathInfoRequest request, IServerStreamWriter<PathInfo> responses, ServerCallContext context) => Guard(context, async () =>
    {
        await foreach (var pathInfo in store.PathInfos.ListAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responses.WriteAsync(pathInfo, context.CancellationToken).ConfigureAwait(false);
        }

        return true;
    });

    /// <summary>A path info's root must be in the store, and be the size the node says.</summary>
    private async Task RequireRootAsync(Node root, CancellationToken ct)
    {
        (bool present, ulong? size, ulong claimed) = root.NodeCase switch
        {
            Node.NodeOneofCase.Directory => await store.Directories.GetAsync(Digest(root.Directory.Digest), ct).ConfigureAwait(false) is { } directory
                ? (true, directory.Size(), root.Directory.Size)
                : (false, null, root.Directory.Size),
            Node.NodeOneofCase.File => await store.Blobs.StatAsync(Digest(root.File.Digest), ct: ct).ConfigureAwait(false) is { } blob
                ? (true, (ulong?)blob.Size, root.File.Size)
                : (false, null, root.File.Size),
            _ => (true, null, 0UL),
        };
        if (!present)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "the path info's root node is not in the store; put it first"));
        }

        if (size is { } actual && actual != claimed)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the path info's root node has size {claimed}, but what it names has {actual}"));
        }
    }

    private static B3Digest Digest(ByteString bytes) => B3Digest.FromProto(bytes);

    private static RpcException NotFound(string what, ByteString digest) =>
        new(new Status(StatusCode.NotFound, $"{what} {Convert.ToHexStringLower(digest.Span)} not found"));

    /// <summary>Answers a failure with the status it deserves, and logs it (<see cref="RequestFailures"/>).</summary>
    private async Task<T> Guard<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw failures.StatusOf(context.Method, e);
        }
    }
}
