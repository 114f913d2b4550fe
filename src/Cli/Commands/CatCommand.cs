using System.CommandLine;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services;
using Snix.Castore.V1;

namespace CastoreFs.Cli.Commands;

internal static class CatCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var path = new Argument<string>("path") { Description = "STOREPATH/path of a file" };
        var command = new Command("cat", "Write a file of the store to standard output.") { path };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var progress = new FetchProgress();
            using var store = storeOptions.Open(parse, progress.Options);
            var target = parse.GetValue(path)!;
            var node = await progress.RunAsync(() => new StorePathResolver(store).ResolveAsync(target, ct)).ConfigureAwait(false);
            if (node.NodeCase != Node.NodeOneofCase.File)
            {
                throw new IOException($"{target}: is a {node.NodeCase.ToString().ToLowerInvariant()}, not a file");
            }

            var digest = B3Digest.FromProto(node.File.Digest);
            await using var blob = await store.Blobs.OpenReadAsync(digest, ct).ConfigureAwait(false)
                ?? throw new FileNotFoundException($"{target}: blob {digest.ToHex()} is missing from the store");
            await using var stdout = Console.OpenStandardOutput();
            await blob.CopyToAsync(stdout, 1024 * 1024, ct).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
