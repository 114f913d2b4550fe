using System.CommandLine;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;

namespace CastoreFs.Cli.Commands;

internal static class NarCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var path = new Argument<string>("store-path") { Description = "/nix/store/<hash>-<name>[/sub/path] or <hash>-<name>[/sub/path]" };
        var command = new Command("nar", "Write a store path as a NAR to standard output, byte for byte as nix-store --dump.") { path };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var progress = new FetchProgress();
            using var store = storeOptions.Open(parse, progress.Options);
            var node = await progress.RunAsync(() => new StorePathResolver(store).ResolveAsync(parse.GetValue(path)!, ct)).ConfigureAwait(false);
            await using var stdout = Console.OpenStandardOutput();
            await using var output = new BufferedStream(stdout, 1024 * 1024);
            await new NarRenderer(store.Blobs, store.Directories).RenderAsync(node, output, ct).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
