using CastoreFs.Core.Threading;

namespace CastoreFs.Core.Tests.Threading;

/// <summary>Slots for work in flight: a taker that found none free resumes once half are free again.</summary>
[TestClass]
public sealed class SlotGateTests
{
    [TestMethod]
    public async Task A_taker_waits_when_all_are_taken_and_resumes_once_half_are_free()
    {
        var gate = new SlotGate(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.IsTrue(Take(gate).IsCompletedSuccessfully, $"slot {i} is free");
        }

        var waiting = Take(gate);
        gate.Release();
        await Task.Delay(50);
        Assert.IsFalse(waiting.IsCompleted, "one free slot of four does not wake the taker");

        gate.Release();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        // Two were free and the woken taker has one: one is left, then none.
        Assert.IsTrue(Take(gate).IsCompletedSuccessfully);
        Assert.IsFalse(Take(gate).IsCompleted);
    }

    [TestMethod]
    public async Task A_cancelled_taker_throws_and_takes_no_slot()
    {
        var gate = new SlotGate(2);
        await gate.TakeAsync(CancellationToken.None);
        await gate.TakeAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = gate.TakeAsync(cancel.Token).AsTask();
        var next = Take(gate);
        await cancel.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => cancelled);

        gate.Release();
        await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsFalse(Take(gate).IsCompleted, "the cancelled taker's turn went to the next, and no slot is left");
        gate.Release();
    }

    [TestMethod]
    public async Task A_taker_after_a_cancelled_one_gets_a_free_slot_at_once()
    {
        var gate = new SlotGate(4);
        for (int i = 0; i < 4; i++)
        {
            await gate.TakeAsync(CancellationToken.None);
        }

        using var cancel = new CancellationTokenSource();
        var cancelled = gate.TakeAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => cancelled);

        // One slot back of four is not yet half free for a waiting taker, but no one waits any more.
        gate.Release();
        Assert.IsTrue(Take(gate).IsCompletedSuccessfully);
    }

    [TestMethod]
    public async Task Many_takers_and_releasers_never_hold_more_than_the_capacity()
    {
        var gate = new SlotGate(8);
        int held = 0, most = 0;
        await Parallel.ForAsync(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
        {
            await gate.TakeAsync(ct);
            int now = Interlocked.Increment(ref held);
            InterlockedMax(ref most, now);
            await Task.Yield();
            Interlocked.Decrement(ref held);
            gate.Release();
        });

        Assert.AreEqual(0, held);
        Assert.IsTrue(most is > 0 and <= 8, $"at most 8 held at once, saw {most}");
    }

    private static Task Take(SlotGate gate) => gate.TakeAsync(CancellationToken.None).AsTask();

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
