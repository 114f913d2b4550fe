using System.Diagnostics;
using System.Globalization;
using CastoreFs.Core.Grpc;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Tests.Cli;
using Grpc.Core;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary><c>castorefs serve</c> as a process, in front of clients it does not trust: what it logs, what it holds.</summary>
[TestClass]
public sealed class ServeProcessTests
{
    [TestMethod]
    public async Task Thousands_of_garbage_calls_log_one_line_each_at_most_twenty_per_window_and_no_stack_trace()
    {
        using var dir = new TempDirectory();
        using var serve = Serve(dir, out var address, out var stderr);
        using var connection = GrpcConnection.Open(address);
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        var stat = new Method<byte[], byte[]>(MethodType.Unary, "snix.castore.v1.BlobService", "Stat", raw, raw);
        int refused = 0;
        await Parallel.ForAsync(0, 3000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            try
            {
                await connection.Invoker.AsyncUnaryCall(stat, null, default, [0x0a, 0xff, 0xff, (byte)i]).ResponseAsync;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
            {
                Interlocked.Increment(ref refused);
            }
        });
        Assert.AreEqual(3000, refused);

        var lines = Stop(serve, stderr);
        var warnings = lines.Where(l => l.Contains("refused", StringComparison.Ordinal)).ToList();
        Console.WriteLine($"3000 garbage calls: {lines.Count} log lines, {warnings.Count} of them refusals");
        Assert.IsTrue(warnings.Count is > 0 and <= 21, $"{warnings.Count} lines: one per refused request, at most 20 a window (and a count of the rest)");
        Assert.IsTrue(warnings.Any(l => l.Contains("INVALID_ARGUMENT", StringComparison.OrdinalIgnoreCase) || l.Contains("InvalidArgument", StringComparison.Ordinal)), string.Join('\n', warnings.Take(3)));
        Assert.IsFalse(lines.Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal)), "no stack traces for bad input: " + string.Join('\n', lines.Take(5)));
    }

    [TestMethod]
    public async Task Many_large_puts_at_once_hold_a_bounded_memory_and_give_it_back()
    {
        using var dir = new TempDirectory();
        using var serve = Serve(dir, out var address, out var stderr);
        using var client = CastoreStore.Open(address, dir.Combine("cache"));
        long idleBefore = Rss(serve.Id);

        // Eight blobs of 64 MiB at once, and eight closures of 10,000 directories each.
        var blobs = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var piece = new byte[1 << 20];
            new Random(i).NextBytes(piece);
            await using var writer = client.Blobs.OpenWrite();
            for (int m = 0; m < 64; m++)
            {
                piece[0] = (byte)m;
                await writer.WriteAsync(piece);
            }

            await writer.CommitAsync();
        }));
        var closures = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await using var putter = client.Directories.BeginPut();
            var inner = new Snix.Castore.V1.Directory();
            for (int d = 0; d < 10_000; d++)
            {
                var outer = new Snix.Castore.V1.Directory();
                outer.Directories.Add(CastoreFs.Core.Model.DirectoryRules.ToNode(inner, Google.Protobuf.ByteString.CopyFromUtf8($"c{i}-{d}")));
                await putter.PutAsync(inner);
                inner = outer;
            }

            await putter.PutAsync(inner);
            await putter.CloseAsync();
        }));
        long peak = 0;
        var all = Task.WhenAll(blobs.Concat(closures));
        while (!all.IsCompleted)
        {
            peak = Math.Max(peak, Rss(serve.Id));
            await Task.WhenAny(all, Task.Delay(100));
        }

        await all;
        peak = Math.Max(peak, Peak(serve.Id));
        // The server trims once it has been idle for 2 s; give it a few of its 2 s ticks on a busy machine.
        long idleAfter = Rss(serve.Id);
        for (var idle = System.Diagnostics.Stopwatch.StartNew(); idleAfter >= idleBefore + (64L << 20) && idle.Elapsed < TimeSpan.FromSeconds(20);)
        {
            await Task.Delay(250);
            idleAfter = Rss(serve.Id);
        }

        Stop(serve, stderr);
        Console.WriteLine($"serve RSS: {idleBefore >> 20} MiB idle before, {peak >> 20} MiB at peak, {idleAfter >> 20} MiB idle after (512 MiB of blobs and 80,000 directories put)");
        Assert.IsLessThan(512L << 20, peak, "what all calls hold together is bounded");
        Assert.IsLessThan(idleBefore + (64L << 20), idleAfter, "memory is given back when idle");
    }

    private static Process Serve(TempDirectory dir, out string address, out List<string> stderr)
    {
        var socket = dir.Combine("s.sock");
        var serve = new CliRunner(dir.Combine("home")).Start("--store", dir.Combine("store"), "serve", "--listen", "unix://" + socket);
        var lines = new List<string>();
        var ready = new TaskCompletionSource();
        serve.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
            }

            if (e.Data.Contains("serving on", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        serve.BeginErrorReadLine();
        Assert.IsTrue(ready.Task.Wait(TimeSpan.FromSeconds(60)), "serve did not start");
        address = "grpc+unix://" + socket;
        stderr = lines;
        return serve;
    }

    private static List<string> Stop(Process serve, List<string> stderr)
    {
        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        Assert.IsTrue(serve.WaitForExit(30_000), "serve stops on SIGTERM");
        serve.WaitForExit();
        lock (stderr)
        {
            return [.. stderr];
        }
    }

    private static long Rss(int pid) => Status(pid, "VmRSS:");

    private static long Peak(int pid) => Status(pid, "VmHWM:");

    private static long Status(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
