using System.IO.Compression;
using CastoreFs.Core.IO;
using Grpc.Core;
using Grpc.Net.Compression;

namespace CastoreFs.Server;

/// <summary>
/// gzip for request messages, inflated at most to the largest message a client may send: a compressed
/// message is inflated before any size check, and 1 MiB of gzip can be 1 GiB of data.
/// </summary>
internal sealed class BoundedGzip(int maxInflated) : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    public Stream CreateDecompressionStream(Stream stream) => new Inflating(new GZipStream(stream, CompressionMode.Decompress), maxInflated);

    private sealed class Inflating(Stream inner, int max) : ForwardReadStream
    {
        private long _read;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            _read += n;
            return _read <= max
                ? n
                : throw new RpcException(new Status(StatusCode.ResourceExhausted, $"a compressed message inflates past {max} bytes, the most a message may hold"));
        }
    }
}
