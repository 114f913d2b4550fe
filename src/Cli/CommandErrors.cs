using Grpc.Core;

namespace CastoreFs.Cli;

/// <summary>Turns the failures a user can cause or meet into one line on stderr and exit code 1.</summary>
internal static class CommandErrors
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or IOException or InvalidDataException or TimeoutException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or TypeLoadException)
        {
            await Console.Error.WriteLineAsync($"castorefs: error: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (RpcException e)
        {
            await Console.Error.WriteLineAsync($"castorefs: error: store answered {e.StatusCode}: {e.Status.Detail}").ConfigureAwait(false);
            return 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"castorefs: error: cannot reach the store: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
