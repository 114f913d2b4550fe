using Spectre.Console;

namespace CastoreFs.Cli;

/// <summary>A progress bar on stderr when it is a terminal; silence otherwise.</summary>
internal static class ImportProgress
{
    /// <param name="totalBytes">The bar's length, asked only when there is a bar: for a tree it is a walk of its own.</param>
    public static async Task<T> RunAsync<T>(string label, Func<long?> totalBytes, Func<IProgress<long>?, Task<T>> import)
    {
        if (Console.IsErrorRedirected)
        {
            return await import(null).ConfigureAwait(false);
        }

        T result = default!;
        long? total = totalBytes();
        await ProgressBars.RunAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(label), maxValue: Math.Max(total ?? 0, 1));
            task.IsIndeterminate = total is null;
            result = await import(new Reporter(task)).ConfigureAwait(false);
            task.Value = task.MaxValue;
        }).ConfigureAwait(false);
        return result;
    }

    /// <summary>Bytes below <paramref name="path"/> (not following symlinks), for the bar's length.</summary>
    public static long? SizeOf(string path)
    {
        try
        {
            if (File.Exists(path) && new FileInfo(path).LinkTarget is null)
            {
                return new FileInfo(path).Length;
            }

            if (System.IO.Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
            {
                var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
                return new DirectoryInfo(path).EnumerateFiles("*", options).Sum(f => f.Length);
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private sealed class Reporter(ProgressTask task) : IProgress<long>
    {
        public void Report(long value) => task.Value = value;
    }
}
