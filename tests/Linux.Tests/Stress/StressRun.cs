using System.Diagnostics;
using System.Globalization;

namespace CastoreFs.Linux.Tests.Stress;

/// <summary>
/// Readers over random files and random ranges of a mounted tree, each byte compared with the tree's
/// source, while the kernel drops its caches in a loop; and what the mount's daemon holds meanwhile.
/// </summary>
internal sealed class StressRun
{
    private const int MaxRange = 256 * 1024;

    private long _reads;
    private long _bytes;
    private long _errors;
    private long _mismatches;
    private long _damagedRefused;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _failures = new();

    public long Reads => _reads;

    public long Bytes => _bytes;

    public long Errors => _errors;

    public long Mismatches => _mismatches;

    /// <summary>Reads of the damaged file that failed, as every one must.</summary>
    public long DamagedRefused => _damagedRefused;

    public IEnumerable<string> Failures => _failures;

    public int CacheDrops { get; private set; }

    public int DescriptorsBefore => _before.Count;

    public int DescriptorsAfter => _after.Count;

    /// <summary>Files the daemon held open after the readers that it did not hold before.</summary>
    public IReadOnlyList<string> DescriptorsLeft => New(_before, _after);

    private List<string> _before = [];
    private List<string> _after = [];

    public long MaxRssBytes { get; private set; }

    /// <summary>
    /// Runs <paramref name="readers"/> readers over <paramref name="files"/> (mount path, source path) for
    /// <paramref name="duration"/>. Half the reads go to 32 hot files, so that opens of one file overlap.
    /// Reads of <paramref name="damaged"/> (a source whose stored copy is damaged) must fail, and are
    /// counted apart.
    /// </summary>
    public static StressRun Run(int daemonPid, IReadOnlyList<(string Mounted, string Source)> files, string? damaged, int readers, TimeSpan duration, int seed)
    {
        var order = new Random(seed);
        var hot = files.Where(f => f.Source != damaged).OrderBy(_ => order.Next()).Take(damaged is null ? 32 : 31).ToList();
        if (damaged is not null)
        {
            hot.Add(files.Single(f => f.Source == damaged));
        }

        // The daemon's state when serving: its store opened and reached (assemblies loaded, a connection made).
        File.ReadAllBytes(hot[0].Mounted);
        var run = new StressRun { _before = Descriptors(daemonPid) };
        var deadline = Stopwatch.StartNew();
        using (var dropper = CacheDropper.Start(enabled: true, TimeSpan.FromMilliseconds(100)))
        {
            var threads = Enumerable.Range(0, readers).Select(r => new Thread(() => run.Read(files, hot, damaged, new Random(seed + r), deadline, duration)) { Name = $"reader-{r}" }).ToList();
            threads.ForEach(t => t.Start());
            while (threads.Any(t => t.IsAlive))
            {
                run.MaxRssBytes = Math.Max(run.MaxRssBytes, Rss(daemonPid));
                Thread.Sleep(200);
            }

            run.CacheDrops = dropper.Drops;
        }

        // Open files are released when the kernel forgets their nodes: the rest of the cache goes with them.
        CacheDropper.DropAllUntil(() => !New(run._before, Descriptors(daemonPid)).Any(IsBlob), TimeSpan.FromSeconds(30));
        run._after = Descriptors(daemonPid);
        run.MaxRssBytes = Math.Max(run.MaxRssBytes, Rss(daemonPid));
        return run;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Reads} reads, {Bytes / (1 << 20)} MiB, {Errors} errors, {Mismatches} reads with other bytes than the source, {DamagedRefused} reads of the damaged file refused; {CacheDrops} cache drops; daemon fds {DescriptorsBefore} before, {DescriptorsAfter} after ({DescriptorsLeft.Count(IsBlob)} on blobs, {DescriptorsLeft.Count} new: {string.Join(", ", DescriptorsLeft.Select(Path.GetFileName).Distinct())}); daemon max RSS {MaxRssBytes / (1 << 20)} MiB");

    /// <summary>Whether a descriptor is one of a blob's files, rather than the store's database or the daemon's own.</summary>
    public static bool IsBlob(string target) => target.Contains("/blobs/", StringComparison.Ordinal);

    /// <summary>The descriptors of <paramref name="after"/> beyond those of <paramref name="before"/>, counting each target as often as it is open.</summary>
    private static List<string> New(List<string> before, List<string> after)
    {
        var left = after.ToList();
        foreach (var target in before)
        {
            left.Remove(target);
        }

        left.Sort(StringComparer.Ordinal);
        return left;
    }

    /// <summary>What each descriptor of the process points at, one entry per descriptor.</summary>
    private static List<string> Descriptors(int pid)
    {
        var targets = new List<string>();
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            try
            {
                targets.Add(new FileInfo(fd).LinkTarget ?? fd);
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }

        return targets;
    }

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private void Read(IReadOnlyList<(string Mounted, string Source)> files, IReadOnlyList<(string Mounted, string Source)> hot, string? damaged, Random random, Stopwatch clock, TimeSpan duration)
    {
        var got = new byte[MaxRange];
        var want = new byte[MaxRange];
        while (clock.Elapsed < duration)
        {
            var pick = random.Next(2) == 0 ? hot : files;
            var (mounted, source) = pick[random.Next(pick.Count)];
            try
            {
                using var expected = File.OpenHandle(source);
                long size = RandomAccess.GetLength(expected);
                using var actual = File.OpenHandle(mounted);

                // Mostly one random range per open; sometimes the whole file front to back, as cat does.
                bool whole = random.Next(5) == 0;
                long offset = whole ? 0 : random.NextInt64(size + 1);
                do
                {
                    int length = whole ? MaxRange : random.Next(1, MaxRange + 1);
                    int n = ReadFull(actual, got.AsSpan(0, length), offset);
                    int m = ReadFull(expected, want.AsSpan(0, length), offset);
                    Interlocked.Increment(ref _reads);
                    Interlocked.Add(ref _bytes, n);
                    if (n != m || !got.AsSpan(0, n).SequenceEqual(want.AsSpan(0, m)))
                    {
                        Interlocked.Increment(ref _mismatches);
                        _failures.Enqueue($"{mounted} at {offset} (+{length}): {n} bytes, the source has {m}, or other bytes");
                    }

                    offset += n;
                    whole &= n == length;
                }
                while (whole);
            }
            catch (IOException) when (source == damaged)
            {
                Interlocked.Increment(ref _damagedRefused);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _errors);
                _failures.Enqueue($"{mounted}: {e.Message}");
            }
        }
    }

    private static int ReadFull(Microsoft.Win32.SafeHandles.SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        int n;
        while (total < buffer.Length && (n = RandomAccess.Read(file, buffer[total..], offset + total)) > 0)
        {
            total += n;
        }

        return total;
    }
}
