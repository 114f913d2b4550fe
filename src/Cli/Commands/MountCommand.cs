using System.CommandLine;
using System.Diagnostics;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
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
        var listRoot = new Option<bool>("--list-root", "-l") { Description = "Let ls list the store's roots (expensive on a large store)" };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => new LinuxMountOptions().Threads };
        var allowOther = new Option<bool>("--allow-other") { Description = "Let other users see the mount (as a user: needs user_allow_other in /etc/fuse.conf)" };
        var root = new Option<string?>("--root") { Description = "Mount this directory (BLAKE3 digest, hex or blake3-<base64>) instead of the store's path infos" };
        var noPassthrough = new Option<bool>("--no-passthrough") { Description = "Serve every read here instead of handing local blob files to the kernel" };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground until unmounted or interrupted (the default)" };
        var daemon = new Option<bool>("--daemon", "-d") { Description = "Return once the mount is live, serving it in the background" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Warning shows each failed request; Debug shows every request", DefaultValueFactory = _ => LogLevel.Warning };
        var command = new Command("mount", "Mount the store read-only: MOUNTPOINT/<store path basename> for every path info.")
        {
            mountPoint, listRoot, threads, allowOther, root, noPassthrough, foreground, daemon, logLevel,
        };
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

            B3Digest? rootDigest = null;
            if (parse.GetValue(root) is { } text)
            {
                rootDigest = B3Digest.TryParse(text, out var parsed) ? parsed : throw new FormatException($"--root: '{text}' is not a BLAKE3 digest");
            }

            var mountOptions = new LinuxMountOptions
            {
                AllowOther = parse.GetValue(allowOther),
                Threads = Math.Clamp(parse.GetValue(threads), 1, 64),
                Passthrough = !parse.GetValue(noPassthrough),
            };
            using var logging = CliLogging.Create(parse.GetValue(logLevel));
            using var store = storeOptions.Open(parse);
            using var fs = await CastoreFileSystem.OpenAsync(
                store, new FileSystemOptions { ListRoot = parse.GetValue(listRoot), RootDirectory = rootDigest }, logging.CreateLogger("castorefs.fs"), ct).ConfigureAwait(false);
            return await ServeAsync(fs, parse.GetValue(mountPoint)!, mountOptions, logging, ct).ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<int> ServeAsync(CastoreFileSystem fs, string mountPoint, LinuxMountOptions options, ILoggerFactory logging, CancellationToken ct)
    {
        using var connection = FuseConnection.Mount(mountPoint, options);
        FuseServer? server = null;
        using var session = FuseSession.Start(
            connection,
            backing => server = new FuseServer(fs, new FuseServerOptions { BackingFiles = backing }, logging.CreateLogger("castorefs.fuse")),
            options.Threads,
            options.Passthrough,
            logging.CreateLogger("castorefs.linux"));
        var init = await Task.WhenAny(server!.Initialized, session.Completion, Task.Delay(TimeSpan.FromSeconds(30), ct)).ConfigureAwait(false);
        if (init != server.Initialized)
        {
            throw new IOException($"{connection.MountPoint}: the kernel did not start the FUSE session");
        }

        session.TuneReadAhead(options.ReadAheadKiB);
        var how = connection.Privileged ? $"umount {connection.MountPoint}" : $"fusermount3 -u {connection.MountPoint}";
        Console.Out.WriteLine($"castorefs: mounted at {connection.MountPoint}{(server.Passthrough ? " (passthrough)" : string.Empty)}; unmount with '{how}' or Ctrl-C");
        Console.Out.Flush();
        if (Environment.GetEnvironmentVariable(DaemonChildVariable) is not null)
        {
            DaemonProcess.Detach();
        }

        // System.CommandLine cancels the token on SIGINT and SIGTERM; an unmount from outside ends the session.
        await Task.WhenAny(session.Completion, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
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
