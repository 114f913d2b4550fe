using System.CommandLine;
using System.Diagnostics;
using CastoreFs.Core.Hosting;
using CastoreFs.Platforms.Linux;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Cli.Commands;

internal static class MountCommand
{
    /// <summary>Set in the child a <c>--daemon</c> mount starts; the child reports readiness on stdout, then detaches.</summary>
    private const string DaemonChildVariable = "CASTOREFS_DAEMON_CHILD";

    public static Command Create(StoreOptions storeOptions)
    {
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "An existing directory to mount the store on" };
        var tree = new TreeOptions();
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => new LinuxMountOptions().Threads };
        var allowOther = new Option<bool>("--allow-other") { Description = "Let other users see the mount (as a user: needs user_allow_other in /etc/fuse.conf)" };
        var noPassthrough = new Option<bool>("--no-passthrough") { Description = "Serve every read here instead of handing local blob files to the kernel" };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground until unmounted or interrupted (the default)" };
        var daemon = new Option<bool>("--daemon", "-d") { Description = "Return once the mount is live, serving it in the background" };
        var command = new Command("mount", "Mount the store read-only: MOUNTPOINT/<store path basename> for every path info.")
        {
            mountPoint, threads, allowOther, noPassthrough, foreground, daemon,
        };
        tree.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetValue(foreground) && r.GetValue(daemon))
            {
                r.AddError("--foreground and --daemon exclude each other");
            }
        });
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new InvalidOperationException("mount needs Linux FUSE");
            }

            if (parse.GetValue(daemon))
            {
                return await StartDaemonAsync(ct).ConfigureAwait(false);
            }

            var mountOptions = new LinuxMountOptions
            {
                AllowOther = parse.GetValue(allowOther),
                Threads = Math.Clamp(parse.GetValue(threads), 1, 64),
                Passthrough = !parse.GetValue(noPassthrough),
            };
            using var logging = CliLogging.Create(parse.GetValue(tree.LogLevel));
            using var store = storeOptions.Open(parse);
            using var fs = await tree.OpenAsync(parse, store, logging, ct).ConfigureAwait(false);
            return await HostAsync(() => FuseMount.Start(fs, parse.GetValue(mountPoint)!, mountOptions, logging), ct).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>
    /// Starts a transport, reports it once live (which also ends a <c>--daemon</c> parent's wait), and serves
    /// until it ends by itself or SIGINT/SIGTERM stops it. Every command that serves the tree runs this.
    /// </summary>
    public static async Task<int> HostAsync(Func<IMountTransport> start, CancellationToken ct)
    {
        var transport = await MountHost.StartAsync(start, ct).ConfigureAwait(false);
        Console.Out.WriteLine(transport.Report);
        Console.Out.Flush();
        if (Environment.GetEnvironmentVariable(DaemonChildVariable) is not null)
        {
            DaemonProcess.Detach();
        }

        // System.CommandLine cancels the token on SIGINT and SIGTERM.
        await MountHost.ServeAsync(transport, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Starts this command again and returns once it reports the mount live. The child gets pipes of its
    /// own for stdio, so that it holds none of the caller's; its errors are passed on until then.
    /// </summary>
    private static async Task<int> StartDaemonAsync(CancellationToken ct)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in Environment.GetCommandLineArgs().Skip(1).Where(a => a is not ("--daemon" or "-d")))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[DaemonChildVariable] = "1";
        using var child = Process.Start(start)!;
        child.StandardInput.Close();
        var errors = child.StandardError.BaseStream.CopyToAsync(Console.OpenStandardError(), ct);
        var ready = await child.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false);
        if (ready is null)
        {
            await child.WaitForExitAsync(ct).ConfigureAwait(false);
            await errors.ConfigureAwait(false);
            return child.ExitCode == 0 ? 1 : child.ExitCode;
        }

        await Console.Out.WriteLineAsync($"{ready} (daemon pid {child.Id})").ConfigureAwait(false);
        return 0;
    }
}
