using System.Net;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Services;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Server;

/// <summary>A Kestrel gRPC server (HTTP/2 without TLS) serving a store on a unix socket or a TCP address.</summary>
public sealed class CastoreServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CastoreServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The store URL a client uses to reach this server (<c>grpc+unix://…</c> or <c>grpc+http://…</c>).</summary>
    public string Address { get; }

    /// <summary>
    /// Starts serving <paramref name="store"/> on <paramref name="listen"/>: <c>unix:///path.sock</c> or
    /// <c>host:port</c> (port 0 picks a free one).
    /// </summary>
    public static Task<CastoreServer> StartAsync(CastoreStore store, string listen, LogLevel logLevel = LogLevel.Warning, CancellationToken ct = default) =>
        StartAsync(store, listen, [ProtocolFamily.Snix, ProtocolFamily.Tvix], logLevel, ct);

    /// <summary>Starts serving under only the given package names (to test clients against one era's servers).</summary>
    public static async Task<CastoreServer> StartAsync(
        CastoreStore store, string listen, IReadOnlyList<ProtocolFamily> families, LogLevel logLevel = LogLevel.Warning, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(logLevel);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = ServerLimits.MaxMessageSize;
            o.MaxSendMessageSize = 256 * 1024 * 1024;

            o.CompressionProviders = [new BoundedGzip(ServerLimits.MaxMessageSize)];
        });
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(new ServedFamilies(families));
        builder.Services.AddSingleton<RequestFailures>();
        builder.Services.AddSingleton<CallObserver>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<CastoreGrpcService>, CastoreMethodProvider>());
        ServerLimits.AddCallLimit(builder.Services);

        string? socketPath = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ServerLimits.Apply(kestrel.Limits);
            if (listen.StartsWith("unix://", StringComparison.Ordinal))
            {
                socketPath = new Uri(listen).AbsolutePath;
                if (File.Exists(socketPath))
                {
                    File.Delete(socketPath);
                }

                kestrel.ListenUnixSocket(socketPath, o => o.Protocols = HttpProtocols.Http2);
            }
            else
            {
                kestrel.Listen(ParseEndpoint(listen), o => o.Protocols = HttpProtocols.Http2);
            }
        });

        var app = builder.Build();
        var calls = app.Services.GetRequiredService<CallObserver>();
        app.Use(calls.InvokeAsync);
        app.UseRateLimiter();
        app.MapGrpcService<CastoreGrpcService>();
        await app.StartAsync(ct).ConfigureAwait(false);
        string address = socketPath is not null
            ? "grpc+unix://" + socketPath
            : "grpc+" + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        return new CastoreServer(app, address);
    }

    private static IPEndPoint ParseEndpoint(string listen)
    {
        int colon = listen.LastIndexOf(':');
        if (colon > 0 && int.TryParse(listen.AsSpan(colon + 1), out int port))
        {
            var host = listen[..colon].Trim('[', ']');
            if (host == "localhost")
            {
                return new IPEndPoint(IPAddress.Loopback, port);
            }

            if (IPAddress.TryParse(host, out var address))
            {
                return new IPEndPoint(address, port);
            }
        }

        throw new ArgumentException($"cannot listen on '{listen}': use unix:///path.sock or address:port");
    }

    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
