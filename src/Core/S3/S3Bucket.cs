using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;

namespace CastoreFs.Core.S3;

/// <summary>
/// One bucket and key prefix of an S3 store, opened from <c>s3://bucket/prefix?endpoint=…&amp;region=…</c>
/// (<see cref="S3Url"/>), with credentials found the AWS way (environment, profile, instance role). Every
/// failure of the service or the network leaves as an <see cref="IOException"/> naming the object, the one
/// store failure the layers above know; a missing object is null, not an error.
/// </summary>
public sealed class S3Bucket : IDisposable
{
    /// <summary>Objects larger than this are uploaded in parts, several at once.</summary>
    private const long MultipartBytes = 16L * 1024 * 1024;

    private readonly AmazonS3Client _client;
    private readonly TransferUtility _transfer;

    private S3Bucket(S3Url url, AmazonS3Client client)
    {
        Url = url;
        _client = client;
        _transfer = new TransferUtility(client, new TransferUtilityConfig { ConcurrentServiceRequests = 4 });
    }

    public S3Url Url { get; }

    public string Display => Url.Display;

    public static S3Bucket Open(string url)
    {
        var parsed = S3Url.Parse(url);
        var config = new AmazonS3Config
        {
            // Streaming uploads with a checksum trailer are refused by some gateways (Ceph RGW 16 answers
            // XAmzContentSHA256Mismatch); a blob is checked by its own digest instead.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            Timeout = parsed.Timeout,
        };
        if (parsed.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = parsed.Region ?? "us-east-1";
        }
        else if (parsed.Region is { } region)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return new S3Bucket(parsed, new AmazonS3Client(config));
    }

    /// <summary>The object's length, or null when it does not exist.</summary>
    public Task<long?> LengthAsync(string key, CancellationToken ct) => ReadCallAsync("stat", key, async token =>
        (long?)(await _client.GetObjectMetadataAsync(Url.Bucket, Url.Prefix + key, token).ConfigureAwait(false)).ContentLength, ct);

    /// <summary>The whole object, or null when it does not exist.</summary>
    public Task<byte[]?> GetAsync(string key, CancellationToken ct) => ReadCallAsync("read", key, async token =>
    {
        using var response = await _client.GetObjectAsync(Url.Bucket, Url.Prefix + key, token).ConfigureAwait(false);
        using var body = new MemoryStream(response.ContentLength is > 0 and < int.MaxValue ? (int)response.ContentLength : 0);
        await response.ResponseStream.CopyToAsync(body, token).ConfigureAwait(false);
        return (byte[]?)body.ToArray();
    }, ct);

    /// <summary>
    /// The object's first <paramref name="bytes"/> bytes (all of it when shorter) and its whole length, from
    /// one ranged GET; null when it does not exist. A small object so costs one request, not a stat and a read.
    /// </summary>
    public async Task<(byte[] Head, long Length)?> GetHeadAsync(string key, int bytes, CancellationToken ct)
    {
        var request = new GetObjectRequest { BucketName = Url.Bucket, Key = Url.Prefix + key, ByteRange = new ByteRange(0, bytes - 1) };
        var head = await ReadCallAsync("read", key, async token =>
        {
            try
            {
                using var response = await _client.GetObjectAsync(request, token).ConfigureAwait(false);
                // Sized by what was sent: most blobs are small, and a 1 MiB buffer each would cost more than the read.
                var buffer = new byte[Math.Clamp(response.ContentLength, 0, bytes)];
                int filled = await FillAsync(response.ResponseStream, buffer, token).ConfigureAwait(false);
                return ((byte[] Head, long? Total)?)(buffer[..filled], TotalLength(response.ContentRange) ?? filled);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // No byte to range over: an empty object; its length is asked below.
                return ([], null);
            }
        }, ct).ConfigureAwait(false);
        return head switch
        {
            null => null,
            ({ } data, { } total) => (data, total),
            _ => await LengthAsync(key, ct).ConfigureAwait(false) is { } length ? ([], length) : null,
        };
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from the object at <paramref name="offset"/> with one ranged GET;
    /// returns the bytes the service sent, which may be fewer (a shorter object) but never more.
    /// </summary>
    public async Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, CancellationToken ct)
    {
        var request = new GetObjectRequest { BucketName = Url.Bucket, Key = Url.Prefix + key, ByteRange = new ByteRange(offset, offset + buffer.Length - 1) };
        var filled = await ReadCallAsync("read", key, async token =>
        {
            using var response = await _client.GetObjectAsync(request, token).ConfigureAwait(false);
            return (int?)await FillAsync(response.ResponseStream, buffer, token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return filled ?? throw Failure("read", key, new FileNotFoundException("the object is gone"));
    }

    /// <summary>Writes the object (whole, or in parts when large) from <paramref name="contents"/>.</summary>
    public async Task PutAsync(string key, Stream contents, CancellationToken ct)
    {
        // No deadline: an upload takes as long as its size; each request has the client's timeout.
        try
        {
            if (contents.CanSeek && contents.Length > MultipartBytes)
            {
                await _transfer.UploadAsync(new TransferUtilityUploadRequest
                {
                    BucketName = Url.Bucket,
                    Key = Url.Prefix + key,
                    InputStream = contents,
                    AutoCloseStream = false,
                    PartSize = MultipartBytes,
                }, ct).ConfigureAwait(false);
                return;
            }

            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Url.Bucket,
                Key = Url.Prefix + key,
                InputStream = contents,
                AutoCloseStream = false,
                UseChunkEncoding = false,
            }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("write", key, e);
        }
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> contents, CancellationToken ct)
    {
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(contents, out var array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(contents.ToArray(), writable: false);
        return PutAsync(key, stream, ct);
    }

    /// <summary>Makes the bucket unless it exists (for tests and a first setup).</summary>
    public async Task EnsureBucketAsync(CancellationToken ct = default)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = Url.Bucket }, ct).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw new IOException($"{Display}: cannot make the bucket: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        _transfer.Dispose();
        _client.Dispose();
    }

    /// <summary>
    /// Runs a read: null when the object does not exist, an IOException naming it for any other failure.
    /// Its whole time, retries and body included, is bounded: a gateway that stops answering mid-body fails
    /// the read rather than hanging it.
    /// </summary>
    private async Task<T?> ReadCallAsync<T>(string what, string key, Func<CancellationToken, Task<T?>> read, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Url.Timeout * 3);
        try
        {
            return await read(deadline.Token).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Failure(what, key, new TimeoutException($"no answer in {Url.Timeout * 3}", e));
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure(what, key, e);
        }
    }

    private static async Task<int> FillAsync(Stream body, Memory<byte> buffer, CancellationToken ct)
    {
        int filled = 0;
        int n;
        while (filled < buffer.Length && (n = await body.ReadAsync(buffer[filled..], ct).ConfigureAwait(false)) > 0)
        {
            filled += n;
        }

        return filled;
    }

    /// <summary>The total of a Content-Range header, <c>bytes 0-1023/5000</c>.</summary>
    private static long? TotalLength(string? contentRange) =>
        contentRange is { } range && range.LastIndexOf('/') is var slash and >= 0
            && long.TryParse(range.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total)
            ? total
            : null;

    private static bool IsServiceFailure(Exception e) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException
        || e is TaskCanceledException { InnerException: TimeoutException };

    private IOException Failure(string what, string key, Exception e) =>
        new($"{Display}: cannot {what} {Url.Prefix}{key}: {e.Message}", e);
}
