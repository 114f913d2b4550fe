using System.Collections.Concurrent;

namespace CastoreFs.Core.Filesystem;

/// <summary>Open handles by number. Numbers start at 1 and are never reused, so a stale handle finds nothing.</summary>
public sealed class HandleTable<T>
    where T : class
{
    private readonly ConcurrentDictionary<ulong, T> _open = new();
    private long _last;

    public int Count => _open.Count;

    public ulong Add(T value)
    {
        var handle = (ulong)Interlocked.Increment(ref _last);
        _open[handle] = value;
        return handle;
    }

    public T? Get(ulong handle) => _open.GetValueOrDefault(handle);

    public T? Remove(ulong handle) => _open.TryRemove(handle, out var value) ? value : null;

    public void Clear() => _open.Clear();

    public IEnumerable<T> RemoveAll()
    {
        foreach (var handle in _open.Keys)
        {
            if (_open.TryRemove(handle, out var value))
            {
                yield return value;
            }
        }
    }
}
