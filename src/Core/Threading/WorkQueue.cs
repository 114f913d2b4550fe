namespace CastoreFs.Core.Threading;

/// <summary>
/// A queue served by worker threads of its own. BlockingCollection's takers spin (sched_yield) before they
/// sleep: sixteen of them on two cores made 1.9 million sched_yield calls importing 100,000 small files,
/// CPU the import itself needed. A taker here sleeps in Monitor.Wait at once, and each item wakes one.
/// </summary>
internal sealed class WorkQueue<T>(int capacity = int.MaxValue)
{
    private readonly Queue<T> _items = new();
    private readonly object _gate = new();
    private bool _completed;

    /// <summary>Queues <paramref name="item"/>; false when the queue is full or no longer taking items.</summary>
    public bool TryAdd(T item)
    {
        lock (_gate)
        {
            if (_completed || _items.Count >= capacity)
            {
                return false;
            }

            _items.Enqueue(item);
            Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>Takes no more items; the takers drain what is queued, then stop.</summary>
    public void CompleteAdding()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits for the next item; false once the queue is completed and empty.</summary>
    public bool TryTake(out T item)
    {
        lock (_gate)
        {
            while (_items.Count == 0)
            {
                if (_completed)
                {
                    item = default!;
                    return false;
                }

                Monitor.Wait(_gate);
            }

            item = _items.Dequeue();
            return true;
        }
    }
}
