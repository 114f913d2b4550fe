using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CastoreFs.Core.Hosting;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using CastoreFs.Platforms.Linux;
using CastoreFs.Platforms.Windows;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Cli.Commands;

internal static class MountCommand
{
    /// <summary>Set in the child a <c>--daemon</c> mount starts; the child reports readiness on stdout, then detaches.</summary>
    private const string DaemonChildVariable = "CASTOREFS_DAEMON_CHILD";

    public static Command Create(StoreOptions storeOptions)
    {
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "An existing directory to mount the store on; on Windows a drive (S:, or * for the first free letter)" };
        var tree = new TreeOptions();
        var threads = new Option<int>("--threads")
        {
            Description = "Worker threads (on Windows 0, the default, lets WinFsp choose)",
            DefaultValueFactory = _ => OperatingSystem.IsWindows() ? 0 : new LinuxMountOptions().Threads,
        };
        var allowOther = new Option<bool>("--allow-other") { Description = "Let other users see the mount (as a user: needs user_allow_other in /etc/fuse.conf)" };
        var noPassthrough = new Option<bool>("--no-passthrough") { Description = "Serve every read here instead of handing local blob files to the kernel" };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground until unmounted or interrupted (the default)" };
        var daemon = new Option<bool>("--daemon", "-d") { Description = "Return once the mount is live, serving it in the background" };
        var volumePrefix = new Option<string?>("--volume-prefix") { Description = @"Windows: serve as the network drive \server\share (what WinFsp's launcher passes as %1)" };
        var command = new Command("mount", "Mount the store read-only: MOUNTPOINT/<store path basename> for every path info.")
        {
            mountPoint, threads, allowOther, noPassthrough, foreground, daemon, volumePrefix,
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
            if (OperatingSystem.IsWindows())
            {
                if (parse.GetValue(daemon) || parse.GetValue(allowOther) || parse.GetValue(noPassthrough))
                {
                    throw new ArgumentException("--daemon, --allow-other and --no-passthrough are for Linux mounts; on Windows the drive is served in the foreground");
                }

                var options = new WindowsMountOptions { Threads = Math.Clamp(parse.GetValue(threads), 0, 64), VolumePrefix = parse.GetValue(volumePrefix) };
                return await MountDriveAsync(parse, storeOptions, tree, parse.GetValue(mountPoint)!, options, ct).ConfigureAwait(false);
            }

            if (parse.GetValue(volumePrefix) is not null)
            {
                throw new ArgumentException("--volume-prefix is for Windows drives");
            }

            if (!OperatingSystem.IsLinux())
            {
                throw new InvalidOperationException("mount needs Linux FUSE or WinFsp on Windows");
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
            using var store = storeOptions.Open(parse, new BinaryCacheOptions { Logging = logging });
            using var fs = await tree.OpenAsync(parse, store, logging, ct).ConfigureAwait(false);
            return await HostAsync(() => FuseMount.Start(fs, parse.GetValue(mountPoint)!, mountOptions, logging), ct).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>
    /// Mounts the store as a Windows drive until Ctrl-C or Ctrl-Break (which WinFsp's launcher sends to
    /// stop a file system).
    /// </summary>
    [SupportedOSPlatform("windows")]
    private static async Task<int> MountDriveAsync(ParseResult parse, StoreOptions storeOptions, TreeOptions tree, string drive, WindowsMountOptions options, CancellationToken ct)
    {
        if (drive != "*" && !(drive.Length == 2 && char.IsAsciiLetter(drive[0]) && drive[1] == ':'))
        {
            throw new ArgumentException($"'{drive}' is not a drive: give a letter and a colon (S:) or *");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var controlBreak = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        using var logging = CliLogging.Create(parse.GetValue(tree.LogLevel));
        using var store = storeOptions.Open(parse, new BinaryCacheOptions { Logging = logging });
        using var fs = await tree.OpenAsync(parse, store, logging, stop.Token).ConfigureAwait(false);
        return await HostAsync(() => WinFspMount.Start(fs, drive.ToUpperInvariant(), options, logging), stop.Token).ConfigureAwait(false);
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
