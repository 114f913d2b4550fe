using System.Diagnostics;

namespace CastoreFs.Linux.Tests.Stress;

/// <summary>
/// Drops the kernel's dentry and inode caches in a loop (<c>echo 2 &gt; /proc/sys/vm/drop_caches</c>), so
/// the kernel forgets the mount's nodes while readers use them: the FORGETs of a busy machine, at once.
/// Root only, as the mount tests are.
/// </summary>
internal sealed class CacheDropper : IDisposable
{
    private readonly Thread? _thread;
    private readonly CancellationTokenSource _stop = new();
    private int _drops;

    private CacheDropper(TimeSpan interval)
    {
        _thread = new Thread(() =>
        {
            while (!_stop.Token.WaitHandle.WaitOne(interval))
            {
                Drop(2);
                Interlocked.Increment(ref _drops);
            }
        })
        { IsBackground = true, Name = "drop_caches" };
        _thread.Start();
    }

    private CacheDropper()
    {
    }

    public int Drops => Volatile.Read(ref _drops);

    /// <summary>A dropper that runs when <paramref name="enabled"/>, and one that does nothing otherwise.</summary>
    public static CacheDropper Start(bool enabled, TimeSpan interval) => enabled ? new CacheDropper(interval) : new CacheDropper();

    /// <summary>Writes 1 (page cache), 2 (dentries and inodes) or 3 (both).</summary>
    public static void Drop(int what) => File.WriteAllText("/proc/sys/vm/drop_caches", what.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Drops everything, then waits until <paramref name="settled"/> holds (FORGETs arrive after the drop returns).</summary>
    public static bool DropAllUntil(Func<bool> settled, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            Drop(3);
            Thread.Sleep(100);
            if (settled())
            {
                return true;
            }
        }
        while (clock.Elapsed < timeout);
        return false;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join();
        _stop.Dispose();
    }
}
