using BenchmarkDotNet.Attributes;
using CastoreFs.Core.Blake3;

namespace CastoreFs.Bench;

/// <summary>BLAKE3 throughput by input size: single chunks, the SIMD-wide path, and the parallel path.</summary>
[MemoryDiagnoser]
public class Blake3Benchmarks
{
    private byte[] _data = [];

    [Params(1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public CastoreFs.Core.Digests.B3Digest OneThread() => Blake3Hasher.Hash(_data);

    [Benchmark]
    public CastoreFs.Core.Digests.B3Digest AllThreads() => Blake3Hasher.HashParallel(_data);
}
