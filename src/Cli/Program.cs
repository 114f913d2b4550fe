using System.CommandLine;
using CastoreFs.Cli;
using CastoreFs.Cli.Commands;

var storeOptions = new StoreOptions();
var root = new RootCommand("CastoreFs: a content-addressed Nix store (tvix/snix castore) as a filesystem.");
storeOptions.AddTo(root);
root.Subcommands.Add(ImportCommand.Create(storeOptions));
root.Subcommands.Add(NarCommand.Create(storeOptions));
root.Subcommands.Add(LsCommand.Create(storeOptions));
root.Subcommands.Add(CatCommand.Create(storeOptions));
root.Subcommands.Add(ServeCommand.Create(storeOptions));
root.Subcommands.Add(MountCommand.Create(storeOptions));
root.Subcommands.Add(VirtiofsCommand.Create(storeOptions));
root.Subcommands.Add(ServiceCommand.Create());
root.Subcommands.Add(ServiceCommand.CreateMachinePath());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
