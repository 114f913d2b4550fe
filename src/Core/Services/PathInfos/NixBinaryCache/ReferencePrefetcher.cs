using System.Collections.Concurrent;
using System.Threading.Channels;
using CastoreFs.Core.Nix;
using Microsoft.Extensions.Logging;
using Snix.Store.V1;

namespace CastoreFs.Core.Services.PathInfos.NixBinaryCache;

/// <summary>
/// Fetches the references of looked-up paths in the background, a bounded number at once, each path once:
/// every path it fetches is looked up as a caller's would be, so the whole closure follows.
/// </summary>
internal sealed partial class ReferencePrefetcher : IDisposable
{
    private readonly Channel<byte[]> _queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Func<byte[], CancellationToken, Task> _lookup;
    private readonly ILogger _logger;
    private readonly Task[] _workers;

    public ReferencePrefetcher(int concurrency, Func<byte[], CancellationToken, Task> lookup, ILogger logger)
    {
        _lookup = lookup;
        _logger = logger;
        _workers = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkAsync))];
    }

    /// <summary>Queues the references of <paramref name="pathInfo"/> not queued before (the path itself is known).</summary>
    public void Expand(PathInfo pathInfo)
    {
        var self = Model.NodeRules.NameOf(pathInfo.Node).ToStringUtf8();
        _seen.TryAdd(self[..Nix.StorePath.EncodedDigestLength], 0);
        foreach (var reference in pathInfo.References)
        {
            var digest = reference.ToByteArray();
            if (_seen.TryAdd(NixBase32.Encode(digest), 0))
            {
                _queue.Writer.TryWrite(digest);
            }
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
        try
        {
            Task.WaitAll(_workers, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stopping.Dispose();
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var digest in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await _lookup(digest, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or System.Data.Common.DbException or FormatException or InvalidOperationException)
                {
                    LogPrefetchFailed(NixBase32.Encode(digest), e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "prefetch of reference {HashPart} failed: {Reason}")]
    private partial void LogPrefetchFailed(string hashPart, string reason);
}
