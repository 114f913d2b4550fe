using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;

namespace CastoreFs.Core.Grpc;

/// <summary>
/// One gRPC channel to a store URL (<c>grpc+unix:///path.sock</c>, <c>grpc+http(s)://host:port</c>) and the
/// package name it speaks: snix by default, tvix with <c>?proto=tvix</c>, switched to the other once when
/// the server answers UNIMPLEMENTED. Every call must be answered within <see cref="Timeout"/>
/// (<c>?timeout=SECONDS</c>, 30 by default): a unary call in all, a stream message by message.
/// </summary>
public sealed class GrpcConnection : IDisposable
{
    private readonly object _lock = new();
    private bool _switched;
    private volatile bool _confirmed;

    private GrpcConnection(GrpcChannel channel, ProtocolFamily family, TimeSpan timeout, string display)
    {
        Channel = channel;
        Invoker = channel.CreateCallInvoker();
        Family = family;
        Timeout = timeout;
        Display = display;
    }

    public GrpcChannel Channel { get; }

    public CallInvoker Invoker { get; }

    public ProtocolFamily Family { get; private set; }

    public string Display { get; }

    /// <summary>How long the server may take to answer a call, or to send a stream's next message.</summary>
    public TimeSpan Timeout { get; }

    public CastoreMethods Methods => CastoreMethods.For(Family);

    public static bool IsGrpcUrl(string url) => url.StartsWith("grpc+", StringComparison.Ordinal);

    public static GrpcConnection Open(string url)
    {
        var uri = new Uri(url);
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        var family = query["proto"] switch
        {
            null or "snix" => ProtocolFamily.Snix,
            "tvix" => ProtocolFamily.Tvix,
            var other => throw new ArgumentException($"unknown proto '{other}' in {url} (snix or tvix)"),
        };
        var timeout = query["timeout"] switch
        {
            null => TimeSpan.FromSeconds(30),
            var text when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0
                => TimeSpan.FromSeconds(seconds),
            var other => throw new ArgumentException($"timeout '{other}' in {url} is not a number of seconds"),
        };
        var options = new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 256 * 1024 * 1024,
            MaxSendMessageSize = 256 * 1024 * 1024,
        };
        GrpcChannel channel;
        switch (uri.Scheme)
        {
            case "grpc+unix":
                if (!string.IsNullOrEmpty(uri.Host))
                {
                    throw new ArgumentException($"{url}: grpc+unix takes an absolute path and no host (grpc+unix:///path.sock)");
                }

                var socketPath = Uri.UnescapeDataString(uri.AbsolutePath);
                options.HttpHandler = new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        try
                        {
                            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                };
                channel = GrpcChannel.ForAddress("http://localhost", options);
                break;
            case "grpc+http":
            case "grpc+https":
                if (uri.AbsolutePath is not ("" or "/"))
                {
                    throw new ArgumentException($"{url}: grpc+http(s) takes host[:port] and no path");
                }

                channel = GrpcChannel.ForAddress($"{uri.Scheme["grpc+".Length..]}://{uri.Authority}", options);
                break;
            default:
                throw new ArgumentException($"not a gRPC store URL: {url}");
        }

        return new GrpcConnection(channel, family, timeout, url);
    }

    /// <summary>Options for a unary call: its answer is due within <see cref="Timeout"/>.</summary>
    public CallOptions Unary(CancellationToken ct) => new(deadline: DateTime.UtcNow + Timeout, cancellationToken: ct);

    /// <summary>Starts a server stream whose messages are each due within <see cref="Timeout"/>.</summary>
    public TimedResponses<TResponse> Stream<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CancellationToken ct)
        where TRequest : class
        where TResponse : class =>
        new(this, options => Invoker.AsyncServerStreamingCall(method, null, options, request), ct);

    /// <summary>Runs <paramref name="call"/>; on UNIMPLEMENTED, once per connection, switches package and retries.</summary>
    public async Task<T> CallAsync<T>(Func<CastoreMethods, Task<T>> call)
    {
        var methods = Methods;
        T result;
        try
        {
            result = await call(methods).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            _confirmed = true;
            throw;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented && TrySwitchFrom(methods.Family))
        {
            result = await call(Methods).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new TimeoutException($"{Display}: the store did not answer within {Timeout.TotalSeconds} s", e);
        }

        _confirmed = true;
        return result;
    }

    /// <summary>
    /// Settles the package name before a call that cannot be replayed (client streaming, or a stream read
    /// as it arrives) by probing with <paramref name="probe"/>, a cheap call expected to succeed or answer
    /// NOT_FOUND. Free once any call has been answered under the current name.
    /// </summary>
    public Task NegotiateAsync(Func<CastoreMethods, Task> probe) => _confirmed ? Task.CompletedTask : CallAsync(async m =>
    {
        try
        {
            await probe(m).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
        }

        return true;
    });

    /// <summary>Opens a client-streaming call once the package name is settled (see <see cref="NegotiateAsync"/>).</summary>
    public async Task<AsyncClientStreamingCall<TRequest, TResponse>> StartClientStreamingAsync<TRequest, TResponse>(
        Func<CastoreMethods, Task> probe, Func<CastoreMethods, Method<TRequest, TResponse>> method, CancellationToken ct)
        where TRequest : class
        where TResponse : class
    {
        await NegotiateAsync(probe).ConfigureAwait(false);
        return Invoker.AsyncClientStreamingCall(method(Methods), null, new CallOptions(cancellationToken: ct));
    }

    public void Dispose() => Channel.Dispose();

    private bool TrySwitchFrom(ProtocolFamily failed)
    {
        lock (_lock)
        {
            if (Family != failed)
            {
                return true;
            }

            if (_switched)
            {
                return false;
            }

            _switched = true;
            Family = failed.Other();
            return true;
        }
    }
}
