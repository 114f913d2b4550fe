using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Core.Tests;

/// <summary>Keeps every warning and error logged, so a test can say what was (or was not) reported.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<string> Warnings { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Warnings.Enqueue(formatter(state, exception));
        }
    }
}
