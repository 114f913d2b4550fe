using Spectre.Console;

namespace CastoreFs.Cli;

/// <summary>Progress bars on stderr, cleared when done: one look for every command that shows them.</summary>
internal static class ProgressBars
{
    public static Task RunAsync(Func<ProgressContext, Task> body)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(body);
    }
}
