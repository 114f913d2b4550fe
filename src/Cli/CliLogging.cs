using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace CastoreFs.Cli;

/// <summary>Log lines on stderr, one per event; stdout stays for results.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(level)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
