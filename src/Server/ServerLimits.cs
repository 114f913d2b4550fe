using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CastoreFs.Server;

/// <summary>
/// What one call and all calls together may hold, whoever the clients are. Each call holds at most one
/// message of <see cref="MaxMessageSize"/> at a time (three times that while it is parsed); at most
/// <see cref="MaxCalls"/> calls run at once and <see cref="MaxQueuedCalls"/> wait, and a call beyond
/// those is answered UNAVAILABLE at once, which clients retry. A Directory Put keeps a few dozen bytes per
/// directory in memory and the directories themselves in a spill file (<c>BufferedDirectoryPutter</c>).
/// </summary>
internal static class ServerLimits
{
    /// <summary>The largest message a client may send: upstream's servers take 4 MiB too.</summary>
    public const int MaxMessageSize = 4 * 1024 * 1024;

    public const int MaxCalls = 64;

    public const int MaxQueuedCalls = 1024;

    /// <summary>Streams one HTTP/2 connection may carry at once.</summary>
    public const int MaxStreamsPerConnection = 32;

    public static void Apply(KestrelServerLimits limits)
    {
        limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
    }

    public static void AddCallLimit(IServiceCollection services) => services.AddRateLimiter(o =>
    {
        o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetConcurrencyLimiter(
            "calls", _ => new ConcurrencyLimiterOptions { PermitLimit = MaxCalls, QueueLimit = MaxQueuedCalls, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
    });
}
