using System.Net;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// A binary cache over HTTP(S): one pooled client (connections reused, HTTP/2 where the server offers it),
/// answers due within the timeout and bodies that may not stall longer. A missing file is 404 (or 403
/// and 410, as S3 and Nix have it); 5xx, 408, 429 and broken connections are transient.
/// </summary>
internal sealed class HttpBinaryCacheFiles : IBinaryCacheFiles
{
    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;

    public HttpBinaryCacheFiles(TimeSpan timeout)
    {
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = true,
        };
        _client = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("castorefs/" + (typeof(HttpBinaryCacheFiles).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    public async Task<Stream?> OpenAsync(Uri location, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, location);
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new BinaryCacheException($"{location}: no answer within {_timeout.TotalSeconds} s", transient: true, e);
        }
        catch (HttpRequestException e)
        {
            throw new BinaryCacheException($"{location}: {e.Message}", transient: true, e);
        }

        try
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.Gone:
                    response.Dispose();
                    return null;
                case >= HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests:
                    throw new BinaryCacheException($"{location}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", transient: true);
                case < HttpStatusCode.OK or >= HttpStatusCode.MultipleChoices:
                    throw new BinaryCacheException($"{location}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            return new TimedReadStream(body, response, _timeout, location);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose() => _client.Dispose();
}
