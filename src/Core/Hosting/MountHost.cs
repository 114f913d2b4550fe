namespace CastoreFs.Core.Hosting;

/// <summary>Starts any transport, waits until it is live, and serves until it ends or is asked to stop.</summary>
public static class MountHost
{
    /// <summary>How long a transport may take to become live.</summary>
    public static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The started transport once live; a transport that ends or stalls first is stopped, and this throws.</summary>
    public static async Task<T> StartAsync<T>(Func<T> start, CancellationToken ct = default)
        where T : IMountTransport
    {
        var transport = start();
        try
        {
            var first = await Task.WhenAny(transport.Live, transport.Completion, Task.Delay(LiveTimeout, ct)).ConfigureAwait(false);
            if (first == transport.Live)
            {
                await transport.Live.ConfigureAwait(false);
                return transport;
            }

            ct.ThrowIfCancellationRequested();
            if (first == transport.Completion)
            {
                await transport.Completion.ConfigureAwait(false);
                throw new IOException("the transport ended before it was live");
            }

            throw new TimeoutException($"the transport was not live within {LiveTimeout.TotalSeconds:0} s");
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Serves until the transport ends by itself or <paramref name="ct"/> is cancelled (SIGINT, SIGTERM),
    /// then stops it. A transport that failed throws its failure here.
    /// </summary>
    public static async Task ServeAsync(IMountTransport transport, CancellationToken ct)
    {
        using (transport)
        {
            await Task.WhenAny(transport.Completion, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
        }

        if (transport.Completion.IsFaulted)
        {
            await transport.Completion.ConfigureAwait(false);
        }
    }
}
