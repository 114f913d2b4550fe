using System.IO.Compression;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using ZstdSharp;
using CompressionMode = SharpCompress.Compressors.CompressionMode;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>The NAR inside a cache's file, decompressed as it is read, by the narinfo's <c>Compression</c>.</summary>
internal static class NarDecompression
{
    public const int BufferSize = 1024 * 1024;

    /// <summary>
    /// What the compressed file is read in: decoders read a few bytes at a time, and read one by one
    /// through the checks and the network's timer, xz ran at 6 MB/s here, at 115 MB/s over a buffer.
    /// </summary>
    public const int InputBufferSize = 256 * 1024;

    /// <exception cref="BinaryCacheException">A compression Nix does not write.</exception>
    public static Stream Open(Stream compressed, string compression, string display) => compression switch
    {
        "none" => compressed,
        "xz" => new SynchronousReads(new XZStream(compressed)),
        "zstd" => new DecompressionStream(compressed, BufferSize, checkEndOfStream: true, leaveOpen: false),
        "bzip2" => new SynchronousReads(
            BZip2Stream.Create(compressed, CompressionMode.Decompress, decompressConcatenated: true, leaveOpen: false, tolerateTruncatedStream: false)),
        "gzip" => new GZipStream(compressed, System.IO.Compression.CompressionMode.Decompress),
        "br" => new BrotliStream(compressed, System.IO.Compression.CompressionMode.Decompress),
        _ => throw new BinaryCacheException($"{display}: unknown compression '{compression}' (none, xz, zstd, bzip2, gzip, br)"),
    };
}
