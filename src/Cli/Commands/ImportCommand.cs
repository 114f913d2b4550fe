using System.CommandLine;
using System.Text.Json;
using CastoreFs.Core.Import;
using Snix.Castore.V1;

namespace CastoreFs.Cli.Commands;

internal static class ImportCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var paths = new Argument<string[]>("paths") { Description = "Files, directories or symlinks to import (symlinks are not followed)", Arity = ArgumentArity.ZeroOrMore };
        var nar = new Option<string?>("--nar") { Description = "Import a NAR from this file, or - for standard input" };
        var name = new Option<string?>("--name") { Description = "Store path name for --nar" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per imported path" };
        var command = new Command("import", "Import paths or a NAR into the store; prints one store path per input, as nix-store --add.")
        {
            paths, nar, name, json,
        };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var inputs = parse.GetValue(paths) ?? [];
            var narSource = parse.GetValue(nar);
            if ((narSource is null) == (inputs.Length == 0))
            {
                throw new ArgumentException("give PATH... or --nar FILE|- --name NAME");
            }

            using var store = storeOptions.Open(parse);
            var results = new List<ImportResult>();
            if (narSource is not null)
            {
                var storeName = parse.GetValue(name) ?? throw new ArgumentException("--nar needs --name NAME");
                await using var input = narSource == "-" ? Console.OpenStandardInput() : File.OpenRead(narSource);
                long? total = narSource == "-" ? null : input.Length;
                results.Add(await ImportProgress.RunAsync(storeName, () => total, progress =>
                    new NarImporter(store, progress).ImportAsync(input, storeName, narSource == "-" ? "standard input" : narSource, ct)).ConfigureAwait(false));
            }
            else
            {
                foreach (var path in inputs)
                {
                    results.Add(await ImportProgress.RunAsync(path, () => ImportProgress.SizeOf(path), progress =>
                        new PathImporter(store, progress).ImportAsync(path, ct)).ConfigureAwait(false));
                }
            }

            foreach (var result in results)
            {
                Console.WriteLine(parse.GetValue(json) ? Json(result) : result.StorePath.AbsolutePath);
            }

            return 0;
        }));
        return command;
    }

    private static string Json(ImportResult result)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("storePath", result.StorePath.AbsolutePath);
            w.WriteNumber("narSize", result.NarSize);
            w.WriteString("narSha256", Convert.ToHexStringLower(result.NarSha256));
            w.WriteStartObject("node");
            var node = result.Root;
            switch (node.NodeCase)
            {
                case Node.NodeOneofCase.Directory:
                    w.WriteString("type", "directory");
                    w.WriteString("digest", Convert.ToHexStringLower(node.Directory.Digest.Span));
                    w.WriteNumber("size", node.Directory.Size);
                    break;
                case Node.NodeOneofCase.File:
                    w.WriteString("type", "file");
                    w.WriteString("digest", Convert.ToHexStringLower(node.File.Digest.Span));
                    w.WriteNumber("size", node.File.Size);
                    w.WriteBoolean("executable", node.File.Executable);
                    break;
                default:
                    w.WriteString("type", "symlink");
                    w.WriteString("target", node.Symlink.Target.ToStringUtf8());
                    break;
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
