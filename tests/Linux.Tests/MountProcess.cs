using System.Diagnostics;
using CastoreFs.Core.Tests.Cli;

namespace CastoreFs.Linux.Tests;

/// <summary>A <c>castorefs mount</c> process, started and waited on until it says the mount is live.</summary>
internal sealed class MountProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private MountProcess(Process process, string readyLine)
    {
        _process = process;
        ReadyLine = readyLine;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string ReadyLine { get; }

    public int Id => _process.Id;

    /// <summary>The started mount, or null and what it printed when it exited without becoming ready.</summary>
    public static MountProcess? Start(ProcessStartInfo start, out string failure)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        return WaitUntilReady(Process.Start(start)!, out failure);
    }

    public static MountProcess Start(CliRunner cli, params string[] args) =>
        WaitUntilReady(cli.Start(args), out var failure) ?? throw new AssertFailedException("castorefs mount never said it was ready: " + failure);

    private static MountProcess? WaitUntilReady(Process process, out string failure)
    {
        process.StandardInput.Close();
        var ready = process.StandardOutput.ReadLineAsync();
        if (ready.Wait(TimeSpan.FromSeconds(60)) && ready.Result is { } line)
        {
            failure = string.Empty;
            return new MountProcess(process, line);
        }

        if (!process.WaitForExit(5_000))
        {
            process.Kill(entireProcessTree: true);
        }

        failure = process.StandardError.ReadToEnd();
        process.Dispose();
        return null;
    }

    /// <summary>Waits for the process to end by itself; its exit code and stderr.</summary>
    public (int Exit, string Stderr) WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Assert.Fail($"castorefs mount did not exit within {timeout.TotalSeconds} s");
        }

        return (_process.ExitCode, _stderr.Result);
    }

    /// <summary>Stops the mount as a user would (SIGTERM unmounts); a kill would leave a dead mount behind.</summary>
    public void Dispose()
    {
        if (!_process.HasExited && (Posix.SendSignal(_process.Id, Errnos.SIGTERM) != 0 || !_process.WaitForExit(30_000)))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
