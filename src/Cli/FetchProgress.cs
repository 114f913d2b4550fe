using System.Collections.Concurrent;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using Spectre.Console;

namespace CastoreFs.Cli;

/// <summary>
/// A bar on stderr for each NAR a binary cache sends while a one-shot command resolves its path, when
/// stderr is a terminal; silence otherwise. The store is opened with <see cref="Options"/> before any bar
/// can exist, so reports go through this relay.
/// </summary>
internal sealed class FetchProgress : IProgress<NarFetchProgress>
{
    private volatile Action<NarFetchProgress>? _target;

    /// <summary>A one-shot command fetches only what it names: no prefetch of references.</summary>
    public BinaryCacheOptions Options => new() { Progress = this, PrefetchConcurrency = 0 };

    public void Report(NarFetchProgress value) => _target?.Invoke(value);

    public async Task<T> RunAsync<T>(Func<Task<T>> resolve)
    {
        if (Console.IsErrorRedirected)
        {
            return await resolve().ConfigureAwait(false);
        }

        T result = default!;
        await ProgressBars.RunAsync(async context =>
        {
            var bars = new ConcurrentDictionary<string, ProgressTask>(StringComparer.Ordinal);
            _target = report =>
            {
                var bar = bars.GetOrAdd(report.StorePath, path => context.AddTask(Markup.Escape("fetching " + path), maxValue: Math.Max(report.NarSize, 1)));
                bar.Value = report.Done ? bar.MaxValue : report.Bytes;
            };
            try
            {
                result = await resolve().ConfigureAwait(false);
            }
            finally
            {
                _target = null;
            }
        }).ConfigureAwait(false);
        return result;
    }
}
