using System.Collections.Concurrent;

namespace CastoreFs.Core.Caching;

/// <summary>
/// A bounded cache for values that never go stale (content-addressed data, resolved paths of an immutable
/// tree). Two generations: hits in the old one move to the new one, and when the new one is full the old
/// one is dropped whole. It holds at most twice its capacity, reads take no lock, and what is used keeps
/// surviving while what is not ages out after two turns.
/// </summary>
public sealed class GenerationalCache<TKey, TValue>
    where TKey : notnull
{
    private readonly int _capacity;
    private readonly IEqualityComparer<TKey>? _comparer;
    private ConcurrentDictionary<TKey, TValue> _young;
    private ConcurrentDictionary<TKey, TValue> _old;

    public GenerationalCache(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _comparer = comparer;
        _young = new(comparer);
        _old = new(comparer);
    }

    /// <summary>Entries held, in both generations.</summary>
    public int Count => Volatile.Read(ref _young).Count + Volatile.Read(ref _old).Count;

    public bool TryGet(TKey key, out TValue value)
    {
        if (Volatile.Read(ref _young).TryGetValue(key, out value!))
        {
            return true;
        }

        if (Volatile.Read(ref _old).TryGetValue(key, out value!))
        {
            Add(key, value);
            return true;
        }

        return false;
    }

    public void Add(TKey key, TValue value)
    {
        var young = Volatile.Read(ref _young);
        young[key] = value;
        if (young.Count > _capacity)
        {
            Turn(young);
        }
    }

    /// <summary>A lookup by another key type (a span of a string key), for callers that must not allocate per lookup.</summary>
    public bool TryGet<TAlternate>(TAlternate key, out TValue value)
        where TAlternate : notnull, allows ref struct
    {
        if (Volatile.Read(ref _young).GetAlternateLookup<TAlternate>().TryGetValue(key, out value!))
        {
            return true;
        }

        if (Volatile.Read(ref _old).GetAlternateLookup<TAlternate>().TryGetValue(key, out var actual, out value!))
        {
            Add(actual, value);
            return true;
        }

        return false;
    }

    public void Clear()
    {
        Volatile.Write(ref _old, new ConcurrentDictionary<TKey, TValue>(_comparer));
        Volatile.Write(ref _young, new ConcurrentDictionary<TKey, TValue>(_comparer));
    }

    private void Turn(ConcurrentDictionary<TKey, TValue> full)
    {
        // One thread turns; the others keep adding to whichever generation they read.
        if (Interlocked.CompareExchange(ref _young, new ConcurrentDictionary<TKey, TValue>(_comparer), full) == full)
        {
            Volatile.Write(ref _old, full);
        }
    }
}
