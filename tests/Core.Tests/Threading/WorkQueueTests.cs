using CastoreFs.Core.Threading;

namespace CastoreFs.Core.Tests.Threading;

/// <summary>Work for threads of their own: bounded, woken for a few items at once, finished in order.</summary>
[TestClass]
public sealed class WorkQueueTests
{
    [TestMethod]
    public void A_full_queue_refuses_an_item_and_a_completed_one_throws()
    {
        var queue = new WorkQueue<int>(capacity: 2);
        Assert.IsTrue(queue.TryAdd(1));
        Assert.IsTrue(queue.TryAdd(2));
        Assert.IsFalse(queue.TryAdd(3), "the queue holds its capacity");

        queue.CompleteAdding();
        Assert.ThrowsExactly<InvalidOperationException>(() => queue.TryAdd(4));
        Assert.IsTrue(queue.TryTake(out var first) && first == 1);
        Assert.IsTrue(queue.TryTake(out var second) && second == 2);
        Assert.IsFalse(queue.TryTake(out _), "completed and empty: the takers stop");
    }

    [TestMethod]
    public void A_sleeping_taker_is_woken_once_enough_items_wait_or_when_asked_for_every_item()
    {
        var queue = new WorkQueue<int>(capacity: 16, wakeAt: 3);
        var taken = new List<int>();
        using var tookOne = new SemaphoreSlim(0);
        var taker = new Thread(() =>
        {
            while (queue.TryTake(out var item))
            {
                lock (taken)
                {
                    taken.Add(item);
                }

                tookOne.Release();
            }
        });
        taker.Start();

        // An awake taker takes whatever waits; this is about one that found the queue empty and sleeps.
        SpinWait.SpinUntil(() => taker.ThreadState == ThreadState.WaitSleepJoin, TimeSpan.FromSeconds(10));
        queue.TryAdd(1);
        queue.TryAdd(2);
        Assert.IsFalse(tookOne.Wait(100), "two items of three do not wake the taker");

        queue.TryAdd(3);
        for (int i = 0; i < 3; i++)
        {
            Assert.IsTrue(tookOne.Wait(TimeSpan.FromSeconds(10)), "three items wake it, and it takes them all");
        }

        SpinWait.SpinUntil(() => taker.ThreadState == ThreadState.WaitSleepJoin, TimeSpan.FromSeconds(10));
        queue.TryAdd(4);
        Assert.IsFalse(tookOne.Wait(100));
        queue.WakeForEvery();
        Assert.IsTrue(tookOne.Wait(TimeSpan.FromSeconds(10)), "asked for every item, it takes the one waiting");
        queue.TryAdd(5);
        Assert.IsTrue(tookOne.Wait(TimeSpan.FromSeconds(10)), "and each one added after");

        queue.CompleteAdding();
        Assert.IsTrue(taker.Join(TimeSpan.FromSeconds(10)));
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5 }, taken);
    }
}
