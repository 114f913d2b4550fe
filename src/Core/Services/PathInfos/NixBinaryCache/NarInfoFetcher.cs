using System.Diagnostics;
using System.Text;
using CastoreFs.Core.Import;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Nix;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using Microsoft.Extensions.Logging;
using Snix.Store.V1;
using StorePath = CastoreFs.Core.Nix.StorePath;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// Fetches one store path from a binary cache: its narinfo (signature checked unless the URL waived it),
/// then its NAR, decompressed as it streams into the blob and directory services, and returns the path
/// info only once the NAR's size and SHA-256 equal the narinfo's. Transient failures are tried again.
/// </summary>
internal sealed partial class NarInfoFetcher(
    BinaryCacheUrl cache, IBinaryCacheFiles files, IBlobService blobs, IDirectoryService directories,
    ILogger logger, IProgress<NarFetchProgress>? progress)
{
    private const int Attempts = 3;
    private const int MaxNarInfoLength = 1 << 20;
    private const long ProgressStep = 1 << 20;

    /// <summary>The verified path info, or null when the cache has no narinfo for the digest.</summary>
    /// <exception cref="BinaryCacheException">The cache failed after every try, or served what does not verify.</exception>
    public async Task<PathInfo?> FetchAsync(byte[] digest, CancellationToken ct)
    {
        var hashPart = NixBase32.Encode(digest);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await FetchOnceAsync(digest, hashPart, ct).ConfigureAwait(false);
            }
            catch (BinaryCacheException e) when (e.Transient && attempt < Attempts)
            {
                var delay = TimeSpan.FromMilliseconds((250 << attempt) + Random.Shared.Next(250));
                LogRetry(hashPart, cache.Display, attempt, Attempts, (long)delay.TotalMilliseconds, e.Message);
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<PathInfo?> FetchOnceAsync(byte[] digest, string hashPart, CancellationToken ct)
    {
        var narInfoLocation = cache.Resolve(hashPart + ".narinfo");
        var text = await ReadNarInfoAsync(narInfoLocation, ct).ConfigureAwait(false);
        if (text is null)
        {
            LogMissing(hashPart, cache.Display);
            return null;
        }

        NarInfo info;
        Uri narLocation;
        try
        {
            info = NarInfo.Parse(text);
            narLocation = cache.Resolve(info.Url);
        }
        catch (FormatException e)
        {
            throw new BinaryCacheException($"{narInfoLocation}: {e.Message}", inner: e);
        }

        if (!info.StorePath.Digest.SequenceEqual(digest))
        {
            throw new BinaryCacheException($"{narInfoLocation}: names {info.StorePath.AbsolutePath}, another store path");
        }

        if (cache.TrustedKeys is { } keys && !keys.Verify(info))
        {
            var signers = info.Signatures.Count == 0 ? "none" : string.Join(", ", info.Signatures.Select(s => s.Split(':')[0]));
            throw new BinaryCacheException($"{narInfoLocation}: {info.StorePath.AbsolutePath} has no valid signature by a trusted key (signed by: {signers})");
        }

        var clock = Stopwatch.StartNew();
        var pathInfo = await FetchNarAsync(info, narLocation, ct).ConfigureAwait(false);
        LogFetched(info.StorePath.AbsolutePath, cache.Display, info.NarSize, info.Compression, info.FileSize ?? 0, clock.ElapsedMilliseconds);
        return pathInfo;
    }

    private async Task<string?> ReadNarInfoAsync(Uri location, CancellationToken ct)
    {
        var stream = await files.OpenAsync(location, ct).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        using var checkedStream = new CheckedReadStream(stream, MaxNarInfoLength, location.ToString());
        using var text = new MemoryStream();
        await checkedStream.CopyToAsync(text, ct).ConfigureAwait(false);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(text.GetBuffer(), 0, (int)text.Length);
        }
        catch (DecoderFallbackException e)
        {
            throw new BinaryCacheException($"{location}: a narinfo is UTF-8 text", inner: e);
        }
    }

    private async Task<PathInfo> FetchNarAsync(NarInfo info, Uri location, CancellationToken ct)
    {
        var path = info.StorePath.AbsolutePath;
        var stream = await files.OpenAsync(location, ct).ConfigureAwait(false)
            ?? throw new BinaryCacheException($"{location}: the NAR of {path} is not in the cache");
        long reported = 0;
        using var compressed = new CheckedReadStream(stream, info.FileSize is { } fileSize ? (long)fileSize : long.MaxValue, location.ToString(), hash: info.FileSha256 is not null, bufferSize: NarDecompression.InputBufferSize);
        using var nar = new CheckedReadStream(
            NarDecompression.Open(compressed, info.Compression, location.ToString()), (long)info.NarSize, $"the NAR of {path} ({info.Compression})",
            progress: progress is null ? null : bytes =>
            {
                if (bytes - reported >= ProgressStep)
                {
                    reported = bytes;
                    progress.Report(new NarFetchProgress(path, bytes, info.NarSize, Done: false));
                }
            });
        try
        {
            NarContents contents;
            try
            {
                contents = await NarImporter.IngestAsync(nar, blobs, directories, null, ct).ConfigureAwait(false);
            }
            catch (NarFormatException e)
            {
                throw new BinaryCacheException($"{location}: the NAR of {path} is malformed: {e.Message}", inner: e);
            }

            if (contents.NarSize != info.NarSize)
            {
                throw new BinaryCacheException($"{location}: the NAR of {path} has {contents.NarSize} bytes, its narinfo says {info.NarSize}");
            }

            if (!contents.NarSha256.AsSpan().SequenceEqual(info.NarSha256))
            {
                throw new BinaryCacheException(
                    $"{location}: the NAR of {path} has SHA-256 {NixBase32.Encode(contents.NarSha256)}, its narinfo says {NixBase32.Encode(info.NarSha256)}");
            }

            await CheckFileAsync(info, location, compressed, ct).ConfigureAwait(false);
            try
            {
                return info.ToPathInfo(contents.Root);
            }
            catch (FormatException e)
            {
                throw new BinaryCacheException($"{location}: {e.Message}", inner: e);
            }
        }
        finally
        {
            progress?.Report(new NarFetchProgress(path, nar.BytesRead, info.NarSize, Done: true));
        }
    }

    /// <summary>The compressed file's size and hash, where the narinfo gives them, read to its end.</summary>
    private static async Task CheckFileAsync(NarInfo info, Uri location, CheckedReadStream compressed, CancellationToken ct)
    {
        if (info.FileSize is null && info.FileSha256 is null)
        {
            return;
        }

        await compressed.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
        if (info.FileSize is { } size && (ulong)compressed.BytesRead != size)
        {
            throw new BinaryCacheException($"{location}: the file has {compressed.BytesRead} bytes, its narinfo says {size}");
        }

        if (info.FileSha256 is { } hash && !compressed.Sha256().AsSpan().SequenceEqual(hash))
        {
            throw new BinaryCacheException($"{location}: the file's SHA-256 differs from its narinfo's FileHash");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "fetched {Path} from {Cache}: NAR of {NarSize} bytes ({Compression}, {FileSize} bytes) in {Milliseconds} ms")]
    private partial void LogFetched(string path, string cache, ulong narSize, string compression, ulong fileSize, long milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{HashPart} is not in {Cache}")]
    private partial void LogMissing(string hashPart, string cache);

    [LoggerMessage(Level = LogLevel.Warning, Message = "fetch of {HashPart} from {Cache} failed (try {Attempt} of {Attempts}), trying again in {Milliseconds} ms: {Reason}")]
    private partial void LogRetry(string hashPart, string cache, int attempt, int attempts, long milliseconds, string reason);
}
