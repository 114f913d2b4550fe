using Microsoft.Extensions.Logging;

namespace CastoreFs.Linux.Tests;

/// <summary>Every category logs to the test's one logger.</summary>
internal sealed class OneLoggerFactory(ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
