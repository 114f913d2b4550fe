using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using CastoreFs.Bench;
using CastoreFs.Core.Blake3;

// "blake3 BYTES RUNS": best-of-RUNS seconds for one- and all-thread BLAKE3 over BYTES in memory, one
// "name seconds" line each, for bench/run to set beside b3sum. Anything else goes to BenchmarkDotNet.
if (args.Length == 3 && args[0] == "blake3")
{
    var data = new byte[long.Parse(args[1], CultureInfo.InvariantCulture)];
    new Random(1).NextBytes(data);
    int runs = int.Parse(args[2], CultureInfo.InvariantCulture);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"blake3_one_thread {Best(runs, () => Blake3Hasher.Hash(data)):F4}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"blake3_all_threads {Best(runs, () => Blake3Hasher.HashParallel(data)):F4}"));
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Blake3Benchmarks).Assembly).Run(args);
return 0;

static double Best(int runs, Action action)
{
    action();
    double best = double.MaxValue;
    for (int i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        action();
        best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }

    return best;
}
