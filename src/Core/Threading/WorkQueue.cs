namespace CastoreFs.Core.Threading;

/// <summary>
/// Work for threads of their own, which sleep in the kernel while the queue is empty. BlockingCollection
/// waits in a SemaphoreSlim, which spins and yields the core a few dozen times before it sleeps: fed one
/// file at a time, sixteen commit threads went idle and spun after nearly every file, 7% of a tree
/// import's CPU in sched_yield on two cores. A sleeping taker may be left asleep until
/// <paramref name="wakeAt"/> items wait: a taker that catches up with its producer otherwise sleeps and is
/// woken again for every item, each a switch of threads, where one woken for a few takes them all.
/// </summary>
internal sealed class WorkQueue<T>(int capacity, int wakeAt = 1)
{
    private readonly Queue<T> _items = new();
    private int _wakeAt = wakeAt;
    private bool _completed;

    /// <summary>Queues <paramref name="item"/>; false when the queue holds <c>capacity</c> items already.</summary>
    /// <exception cref="InvalidOperationException">Adding has been completed.</exception>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The queue takes no more work.");
            }

            if (_items.Count >= capacity)
            {
                return false;
            }

            _items.Enqueue(item);
            if (_items.Count >= _wakeAt)
            {
                Monitor.Pulse(_items);
            }

            return true;
        }
    }

    /// <summary>From now on every item is taken at once: someone waits for all of them to be done.</summary>
    public void WakeForEvery()
    {
        lock (_items)
        {
            _wakeAt = 1;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>No more work comes: the takers finish what is queued, then stop.</summary>
    public void CompleteAdding()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>Waits for the next item; false once adding is complete and the queue is empty.</summary>
    public bool TryTake(out T item)
    {
        lock (_items)
        {
            while (_items.Count == 0 && !_completed)
            {
                Monitor.Wait(_items);
            }

            return _items.TryDequeue(out item!);
        }
    }
}
