using System.CommandLine;
using CastoreFs.Server;

namespace CastoreFs.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create(StoreOptions storeOptions)
    {
        var listen = new Option<string>("--listen", "-l")
        {
            Description = "unix:///path.sock or address:port",
            DefaultValueFactory = _ => "127.0.0.1:8000",
        };
        var command = new Command("serve", "Serve the store over gRPC (tvix and snix package names) until interrupted.") { listen };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            using var store = storeOptions.Open(parse);
            await using var server = await CastoreServer.StartAsync(store, parse.GetValue(listen)!, ct: ct).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"castorefs: serving on {server.Address}").ConfigureAwait(false);
            // System.CommandLine cancels the token on SIGINT and SIGTERM.
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        }));
        return command;
    }
}
