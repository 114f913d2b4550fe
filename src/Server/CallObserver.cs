using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CastoreFs.Server;

/// <summary>
/// Sees every call end, whatever ended it (our handlers, a request gRPC could not parse or inflate, a
/// message too large, too many calls at once): logs the refused ones through
/// <see cref="RequestFailures"/>, and once no call has run for <see cref="IdleBeforeTrim"/> after a busy
/// spell, hands the memory those calls used back to the system.
/// </summary>
internal sealed class CallObserver : IDisposable
{
    private static readonly TimeSpan IdleBeforeTrim = TimeSpan.FromSeconds(2);

    private readonly RequestFailures _failures;
    private readonly Timer _trim;
    private int _inFlight;
    private long _idleSince;
    private int _busy;

    public CallObserver(RequestFailures failures)
    {
        _failures = failures;
        _trim = new Timer(_ => TrimWhenIdle(), null, IdleBeforeTrim, IdleBeforeTrim);
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        Interlocked.Increment(ref _inFlight);
        Volatile.Write(ref _busy, 1);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0)
            {
                Volatile.Write(ref _idleSince, Environment.TickCount64);
            }

            LogIfRefused(context);
        }
    }

    public void Dispose() => _trim.Dispose();

    private void LogIfRefused(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            _failures.Refused(path, StatusCode.Unavailable, "too many calls at once");
            return;
        }

        // Trailers-only responses carry the status in the headers.
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        string? status = trailers?["grpc-status"].ToString() is { Length: > 0 } inTrailers ? inTrailers : context.Response.Headers["grpc-status"].ToString();
        if (int.TryParse(status, out int code) && code != 0)
        {
            var message = trailers?["grpc-message"].ToString() is { Length: > 0 } m ? m : context.Response.Headers["grpc-message"].ToString();
            _failures.Refused(path, (StatusCode)code, Uri.UnescapeDataString(message));
        }
    }

    private void TrimWhenIdle()
    {
        if (Volatile.Read(ref _inFlight) == 0 && Volatile.Read(ref _busy) == 1
            && Environment.TickCount64 - Volatile.Read(ref _idleSince) >= (long)IdleBeforeTrim.TotalMilliseconds)
        {
            Volatile.Write(ref _busy, 0);

            // Compacts the large-object heap and returns what is free to the system, which a plain
            // collection keeps: a burst of large messages must not pin its peak for good.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }
}
