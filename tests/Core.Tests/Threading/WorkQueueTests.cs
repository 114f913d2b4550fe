using System.Collections.Concurrent;
using CastoreFs.Core.Threading;

namespace CastoreFs.Core.Tests.Threading;

[TestClass]
public sealed class WorkQueueTests
{
    [TestMethod]
    public void Takers_on_many_threads_get_every_item_once_and_stop_once_the_queue_is_completed_and_drained()
    {
        var queue = new WorkQueue<int>();
        var taken = new ConcurrentBag<int>();
        var takers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            while (queue.TryTake(out int item))
            {
                taken.Add(item);
            }
        })).ToList();
        takers.ForEach(t => t.Start());

        for (int i = 0; i < 20_000; i++)
        {
            Assert.IsTrue(queue.TryAdd(i));
        }

        queue.CompleteAdding();
        Assert.IsFalse(queue.TryAdd(-1), "a completed queue takes no more");
        foreach (var taker in takers)
        {
            Assert.IsTrue(taker.Join(TimeSpan.FromSeconds(30)), "every taker stops once the queue is drained");
        }

        CollectionAssert.AreEquivalent(Enumerable.Range(0, 20_000).ToList(), taken.ToList());
    }

    [TestMethod]
    public void A_full_queue_refuses_an_item_and_takes_one_again_once_an_item_is_taken()
    {
        var queue = new WorkQueue<string>(capacity: 2);
        Assert.IsTrue(queue.TryAdd("a"));
        Assert.IsTrue(queue.TryAdd("b"));
        Assert.IsFalse(queue.TryAdd("c"));
        Assert.IsTrue(queue.TryTake(out var first));
        Assert.AreEqual("a", first, "first in, first out");
        Assert.IsTrue(queue.TryAdd("c"));
        queue.CompleteAdding();
        Assert.IsTrue(queue.TryTake(out var second));
        Assert.IsTrue(queue.TryTake(out var third));
        Assert.AreEqual("b", second);
        Assert.AreEqual("c", third);
        Assert.IsFalse(queue.TryTake(out _), "completed and empty");
    }
}
