using System.Diagnostics;
using System.Text;

namespace CastoreFs.Core.Tests.Cli;

/// <summary>Runs the real <c>castorefs</c> executable built next to the tests, with its own data home.</summary>
internal sealed class CliRunner(string dataHome)
{
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "castorefs");

    public (int Exit, string Stdout, string Stderr) Run(params string[] args) => Run(null, args);

    public (int Exit, string Stdout, string Stderr) Run(byte[]? stdin, params string[] args)
    {
        var (exit, stdout, stderr) = RunBytes(stdin, args);
        return (exit, Encoding.UTF8.GetString(stdout), stderr);
    }

    public (int Exit, byte[] Stdout, string Stderr) RunBytes(byte[]? stdin, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"castorefs {string.Join(' ', args)} did not finish in 120 s");
        }

        copy.Wait();
        return (process.ExitCode, output.ToArray(), error.Result);
    }

    public Process Start(params string[] args) => Process.Start(StartInfo(args))!;

    private ProcessStartInfo StartInfo(string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        args.ToList().ForEach(start.ArgumentList.Add);
        start.Environment["XDG_DATA_HOME"] = dataHome;
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(dataHome, "cache");
        return start;
    }
}
