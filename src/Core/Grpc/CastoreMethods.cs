using Google.Protobuf;
using Grpc.Core;
using Snix.Castore.V1;
using Snix.Store.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Grpc;

/// <summary>
/// The gRPC methods of the three services under one package name. One set of message classes serves
/// both names; only the method paths differ.
/// </summary>
public sealed class CastoreMethods
{
    private static readonly CastoreMethods SnixMethods = new(ProtocolFamily.Snix, server: false);
    private static readonly CastoreMethods TvixMethods = new(ProtocolFamily.Tvix, server: false);
    private static readonly CastoreMethods SnixServerMethods = new(ProtocolFamily.Snix, server: true);
    private static readonly CastoreMethods TvixServerMethods = new(ProtocolFamily.Tvix, server: true);

    private CastoreMethods(ProtocolFamily family, bool server)
    {
        Marshaller<T> Marshal<T>(MessageParser<T> parser)
            where T : IMessage<T> => server ? MarshalRequest(parser) : CastoreMethods.Marshal(parser);

        Family = family;
        string blob = family.CastorePackage() + ".BlobService";
        string directory = family.CastorePackage() + ".DirectoryService";
        string pathInfo = family.StorePackage() + ".PathInfoService";
        BlobStat = new(MethodType.Unary, blob, "Stat", Marshal(StatBlobRequest.Parser), Marshal(StatBlobResponse.Parser));
        BlobRead = new(MethodType.ServerStreaming, blob, "Read", Marshal(ReadBlobRequest.Parser), Marshal(BlobChunk.Parser));
        BlobPut = new(MethodType.ClientStreaming, blob, "Put", Marshal(BlobChunk.Parser), Marshal(PutBlobResponse.Parser));
        DirectoryGet = new(MethodType.ServerStreaming, directory, "Get", Marshal(GetDirectoryRequest.Parser), Marshal(Directory.Parser));
        DirectoryPut = new(MethodType.ClientStreaming, directory, "Put", Marshal(Directory.Parser), Marshal(PutDirectoryResponse.Parser));
        PathInfoGet = new(MethodType.Unary, pathInfo, "Get", Marshal(GetPathInfoRequest.Parser), Marshal(PathInfo.Parser));
        PathInfoPut = new(MethodType.Unary, pathInfo, "Put", Marshal(PathInfo.Parser), Marshal(PathInfo.Parser));
        PathInfoCalculateNar = new(MethodType.Unary, pathInfo, "CalculateNAR", Marshal(Node.Parser), Marshal(CalculateNARResponse.Parser));
        PathInfoList = new(MethodType.ServerStreaming, pathInfo, "List", Marshal(ListPathInfoRequest.Parser), Marshal(PathInfo.Parser));
    }

    public ProtocolFamily Family { get; }

    public Method<StatBlobRequest, StatBlobResponse> BlobStat { get; }

    public Method<ReadBlobRequest, BlobChunk> BlobRead { get; }

    public Method<BlobChunk, PutBlobResponse> BlobPut { get; }

    public Method<GetDirectoryRequest, Directory> DirectoryGet { get; }

    public Method<Directory, PutDirectoryResponse> DirectoryPut { get; }

    public Method<GetPathInfoRequest, PathInfo> PathInfoGet { get; }

    public Method<PathInfo, PathInfo> PathInfoPut { get; }

    public Method<Node, CalculateNARResponse> PathInfoCalculateNar { get; }

    public Method<ListPathInfoRequest, PathInfo> PathInfoList { get; }

    public static CastoreMethods For(ProtocolFamily family) => family == ProtocolFamily.Tvix ? TvixMethods : SnixMethods;

    /// <summary>The methods as a server binds them: a request that does not parse is the client's error (INVALID_ARGUMENT).</summary>
    public static CastoreMethods ForServer(ProtocolFamily family) => family == ProtocolFamily.Tvix ? TvixServerMethods : SnixServerMethods;

    /// <summary>Unknown fields are dropped on parse, so digests are over what castore knows, as upstream castore hashes them.</summary>
    private static Marshaller<T> Marshal<T>(MessageParser<T> parser)
        where T : IMessage<T> =>
        Marshallers.Create(static m => m.ToByteArray(), parser.WithDiscardUnknownFields(true).ParseFrom);

    private static Marshaller<T> MarshalRequest<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        var lenient = parser.WithDiscardUnknownFields(true);
        return Marshallers.Create(static m => m.ToByteArray(), bytes =>
        {
            try
            {
                return lenient.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"malformed {typeof(T).Name}: {e.Message}"));
            }
        });
    }
}
