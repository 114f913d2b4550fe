using System.CommandLine;
using CastoreFs.Core.Services.PathInfos.NixBinaryCache;
using CastoreFs.Virtio;

namespace CastoreFs.Cli.Commands;

internal static class VirtiofsCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var socketPath = new Option<string>("--socket-path") { Description = "The vhost-user socket QEMU connects to (-chardev socket,path=...)", Required = true };
        var keepListening = new Option<bool>("--keep-listening") { Description = "After the front-end disconnects, wait for the next one instead of exiting" };
        var threads = new Option<int>("--threads") { Description = "Worker threads per request queue", DefaultValueFactory = _ => new VirtioFsOptions().Threads };
        var tree = new TreeOptions();
        var command = new Command("virtiofs", "Serve the store read-only to a QEMU guest over vhost-user-fs: in the guest, mount -t virtiofs TAG /nix/store.")
        {
            socketPath, keepListening, threads,
        };
        tree.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new InvalidOperationException("virtiofs needs Linux (vhost-user)");
            }

            var options = new VirtioFsOptions { KeepListening = parse.GetValue(keepListening), Threads = Math.Clamp(parse.GetValue(threads), 1, 64) };
            using var logging = CliLogging.Create(parse.GetValue(tree.LogLevel));
            using var store = storeOptions.Open(parse, new BinaryCacheOptions { Logging = logging });
            using var fs = await tree.OpenAsync(parse, store, logging, ct, dropBehindLargeReads: false).ConfigureAwait(false);
            return await MountCommand.HostAsync(() => VirtioFsTransport.Start(fs, parse.GetValue(socketPath)!, options, logging), ct).ConfigureAwait(false);
        }));
        return command;
    }
}
