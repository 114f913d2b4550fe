using System.Data.Common;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.PathInfos;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Server;

/// <summary>
/// Turns what a request failed with into the status a client acts on, and logs refused requests: one line
/// each at warning level, without a stack trace (bad input is not a bug), at most
/// <see cref="LinesPerWindow"/> lines per <see cref="Window"/> so that a flood of garbage cannot flood the
/// log, and one line at the end of each window counts those left out. A failure that is ours (of no
/// known kind) is an error, logged with its stack trace under the same limit.
/// </summary>
internal sealed partial class RequestFailures : IDisposable
{
    private const int LinesPerWindow = 20;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Timer _summary;
    private int _lines;
    private int _unlogged;

    public RequestFailures(ILogger<RequestFailures> logger)
    {
        _logger = logger;
        _summary = new Timer(_ => EndWindow(), null, Window, Window);
    }

    public void Dispose() => _summary.Dispose();

    /// <summary>The status for <paramref name="failure"/> of a request to <paramref name="method"/>.</summary>
    public RpcException StatusOf(string method, Exception failure)
    {
        var code = failure switch
        {
            RpcException rpc => rpc.StatusCode,
            BlobVerificationException => StatusCode.DataLoss,
            InvalidProtocolBufferException => StatusCode.InvalidArgument,
            PathInfoConflictException => StatusCode.AlreadyExists,
            FormatException => StatusCode.InvalidArgument,
            InvalidDataException => StatusCode.FailedPrecondition,
            FileNotFoundException or DirectoryNotFoundException => StatusCode.NotFound,
            OperationCanceledException => StatusCode.Cancelled,
            TimeoutException or IOException or DbException or HttpRequestException => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        if (failure is RpcException known)
        {
            return known;
        }

        if (code == StatusCode.Internal && MayLog())
        {
            LogFailed(method, failure);
        }

        return new RpcException(new Status(code, code == StatusCode.Internal ? $"internal error ({failure.GetType().Name})" : failure.Message));
    }

    /// <summary>Logs a request answered with an error, unless the error is an answer (a missing digest) or nobody is left to tell.</summary>
    public void Refused(string method, StatusCode code, string detail)
    {
        if (code is not (StatusCode.OK or StatusCode.NotFound or StatusCode.Cancelled or StatusCode.Internal) && MayLog())
        {
            LogRefused(method, code, detail);
        }
    }

    private bool MayLog()
    {
        lock (_lock)
        {
            if (_lines < LinesPerWindow)
            {
                _lines++;
                return true;
            }

            _unlogged++;
            return false;
        }
    }

    private void EndWindow()
    {
        int unlogged;
        lock (_lock)
        {
            unlogged = _unlogged;
            _unlogged = 0;
            _lines = 0;
        }

        if (unlogged > 0)
        {
            LogUnlogged(unlogged, Window.TotalSeconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused {Method}: {Code}: {Detail}")]
    private partial void LogRefused(string method, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed; answered INTERNAL")]
    private partial void LogFailed(string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} more refused requests in the last {Seconds} s were not logged")]
    private partial void LogUnlogged(int count, double seconds);
}
