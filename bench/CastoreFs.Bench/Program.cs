using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using CastoreFs.Bench;
using CastoreFs.Core.Blake3;

// "blake3 BYTES RUNS": best-of-RUNS seconds of ours and of the Blake3 package, rounds interleaved, one
// "name ours package" line each, for bench/run: BYTES hashed as 4 KiB, 64 KiB and 1 MiB inputs and as
// one input on one thread, and as one input on all threads. Anything else goes to BenchmarkDotNet.
if (args.Length == 3 && args[0] == "blake3")
{
    var data = new byte[long.Parse(args[1], CultureInfo.InvariantCulture)];
    new Random(1).NextBytes(data);
    int runs = int.Parse(args[2], CultureInfo.InvariantCulture);
    foreach (int size in new[] { 4096, 64 * 1024, 1024 * 1024 })
    {
        var (ours, package) = BestOfBoth(
            runs, () => EachInput(data, size, input => Blake3Hasher.Hash(input)), () => EachInput(data, size, input => Blake3.Hasher.Hash(input)));
        Print($"inputs_of_{size}", ours, package);
    }

    var (oneOurs, onePackage) = BestOfBoth(runs, () => Blake3Hasher.Hash(data), () => Blake3.Hasher.Hash(data));
    Print("one_thread", oneOurs, onePackage);
    var (allOurs, allPackage) = BestOfBoth(runs, () => Blake3Hasher.HashParallel(data), () =>
    {
        using var hasher = Blake3.Hasher.New();
        hasher.UpdateWithJoin(data);
        return hasher.Finalize();
    });
    Print("all_threads", allOurs, allPackage);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Blake3Benchmarks).Assembly).Run(args);
return 0;

static void Print(string name, double ours, double package) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {ours:F4} {package:F4}"));

static int EachInput(byte[] data, int size, SpanAction hash)
{
    int count = 0;
    for (int offset = 0; offset + size <= data.Length; offset += size)
    {
        hash(data.AsSpan(offset, size));
        count++;
    }

    return count;
}

static (double Ours, double Package) BestOfBoth<T, TPackage>(int runs, Func<T> ours, Func<TPackage> package)
{
    ours();
    package();
    double bestOurs = double.MaxValue, bestPackage = double.MaxValue;
    for (int i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        ours();
        bestOurs = Math.Min(bestOurs, clock.Elapsed.TotalSeconds);
        clock.Restart();
        package();
        bestPackage = Math.Min(bestPackage, clock.Elapsed.TotalSeconds);
    }

    return (bestOurs, bestPackage);
}

/// <summary>Hashes one input, given as a slice of the data so that no copy is timed.</summary>
internal delegate void SpanAction(ReadOnlySpan<byte> input);
