using System.CommandLine;
using System.Globalization;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using Snix.Castore.V1;

namespace CastoreFs.Cli.Commands;

internal static class LsCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var path = new Argument<string?>("path") { Description = "STOREPATH[/sub/path]; without it, every store path in the store", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("ls", "List the store's paths, or what is at a path in it.") { path };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var progress = new FetchProgress();
            using var store = storeOptions.Open(parse, progress.Options);
            var target = parse.GetValue(path);
            if (target is null)
            {
                await foreach (var pathInfo in store.PathInfos.ListAsync(ct).ConfigureAwait(false))
                {
                    Console.WriteLine(Core.Nix.StorePath.StoreDir + "/" + NodeRules.NameOf(pathInfo.Node).ToStringUtf8());
                }

                return 0;
            }

            var node = await progress.RunAsync(() => new StorePathResolver(store).ResolveAsync(target, ct)).ConfigureAwait(false);
            if (node.NodeCase != Node.NodeOneofCase.Directory)
            {
                Console.WriteLine(Line(node));
                return 0;
            }

            var digest = B3Digest.FromProto(node.Directory.Digest);
            var directory = await store.Directories.GetAsync(digest, ct).ConfigureAwait(false)
                ?? throw new DirectoryNotFoundException($"{target}: directory {digest.ToHex()} is missing from the store");
            foreach (var entry in directory.EntriesInNameOrder())
            {
                Console.WriteLine(Line(entry));
            }

            return 0;
        }));
        return command;
    }

    /// <summary>Type and mode as the mount shows them, size, name, and a symlink's target.</summary>
    private static string Line(Node node) => node.NodeCase switch
    {
        Node.NodeOneofCase.Directory => Format('d', "r-xr-xr-x", node.Directory.Size, node.Directory.Name.ToStringUtf8()),
        Node.NodeOneofCase.File => Format('-', node.File.Executable ? "r-xr-xr-x" : "r--r--r--", node.File.Size, node.File.Name.ToStringUtf8()),
        _ => Format('l', "r--r--r--", (ulong)node.Symlink.Target.Length, node.Symlink.Name.ToStringUtf8() + " -> " + node.Symlink.Target.ToStringUtf8()),
    };

    private static string Format(char type, string mode, ulong size, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"{type}{mode} {size,12} {name}");
}
