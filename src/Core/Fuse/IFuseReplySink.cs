namespace CastoreFs.Core.Fuse;

/// <summary>Where a transport takes one complete reply (header and payload) for the request being served.</summary>
public interface IFuseReplySink
{
    void Send(ReadOnlySpan<byte> reply);
}
