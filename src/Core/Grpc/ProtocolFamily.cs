namespace CastoreFs.Core.Grpc;

/// <summary>
/// The two package names of the same wire protocol. gRPC method paths contain the package
/// (<c>/snix.castore.v1.BlobService/Read</c>), so a client and server must agree on one.
/// </summary>
public enum ProtocolFamily
{
    Snix,
    Tvix,
}

public static class ProtocolFamilyExtensions
{
    public static string CastorePackage(this ProtocolFamily family) => family == ProtocolFamily.Tvix ? "tvix.castore.v1" : "snix.castore.v1";

    public static string StorePackage(this ProtocolFamily family) => family == ProtocolFamily.Tvix ? "tvix.store.v1" : "snix.store.v1";

    public static ProtocolFamily Other(this ProtocolFamily family) => family == ProtocolFamily.Tvix ? ProtocolFamily.Snix : ProtocolFamily.Tvix;
}
