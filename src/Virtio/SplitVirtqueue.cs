using System.Runtime.CompilerServices;
using CastoreFs.Core.IO;

namespace CastoreFs.Virtio;

/// <summary>
/// One split virtqueue in guest memory (virtio 1.2 §2.7): the descriptor table, the avail ring the
/// driver fills, the used ring the device fills. Everything in guest memory is the guest's to change at
/// any moment, so each value is read once, checked, and used as read. Not thread-safe: one worker at a
/// time pops, walks and pushes, under <see cref="VirtioQueue"/>'s lock.
/// </summary>
internal sealed unsafe class SplitVirtqueue
{
    public const ushort DescriptorNext = 1;
    public const ushort DescriptorWrite = 2;
    public const ushort DescriptorIndirect = 4;
    private const ushort AvailNoInterrupt = 1;

    private readonly byte* _descriptors;
    private readonly byte* _avail;
    private readonly byte* _used;
    private ushort _signalledUsed;
    private bool _signalledValid;

    public SplitVirtqueue(nint descriptors, nint avail, nint used, ushort size, ushort lastAvail, bool eventIndex)
    {
        _descriptors = (byte*)descriptors;
        _avail = (byte*)avail;
        _used = (byte*)used;
        Size = size;
        LastAvail = lastAvail;
        EventIndex = eventIndex;
        UsedIndex = Volatile.Read(ref *(ushort*)(_used + 2));
    }

    public ushort Size { get; }

    /// <summary>The next avail slot to take: what GET_VRING_BASE reports.</summary>
    public ushort LastAvail { get; private set; }

    public ushort UsedIndex { get; private set; }

    public bool EventIndex { get; }

    public static ulong DescriptorTableBytes(ushort size) => 16UL * size;

    public static ulong AvailBytes(ushort size) => 6 + (2UL * size);

    public static ulong UsedBytes(ushort size) => 6 + (8UL * size);

    /// <summary>The driver's avail index, read before the ring entries it covers (acquire).</summary>
    private ushort AvailIndex => Volatile.Read(ref *(ushort*)(_avail + 2));

    /// <summary>Whether the driver has made more available than was taken.</summary>
    public bool HasAvailable => AvailIndex != LastAvail;

    /// <summary>The next chain's head; false when the driver has made nothing more available.</summary>
    /// <exception cref="VirtqueueException">The driver claims more than the queue holds, or names a descriptor past it.</exception>
    public bool TryPop(out ushort head)
    {
        head = 0;
        ushort avail = AvailIndex;
        ushort pending = (ushort)(avail - LastAvail);
        if (pending == 0)
        {
            return false;
        }

        if (pending > Size)
        {
            throw new VirtqueueException($"avail index {avail} is {pending} ahead of {LastAvail}, more than the {Size} entries the queue holds");
        }

        head = Unsafe.ReadUnaligned<ushort>(_avail + 4 + (2 * (LastAvail % Size)));
        LastAvail++;
        if (head >= Size)
        {
            throw new VirtqueueException($"avail entry names descriptor {head} of a queue of {Size}");
        }

        return true;
    }

    /// <summary>
    /// Walks the chain at <paramref name="head"/> into its device-readable and device-writable buffers.
    /// Null when well formed, or why not: then the chain is returned unused, with nothing read or written.
    /// </summary>
    public string? Walk(ushort head, GuestMemory memory, Span<BufferSegment> readable, out int readableCount, Span<BufferSegment> writable, out int writableCount)
    {
        readableCount = writableCount = 0;
        byte* table = _descriptors;
        uint tableSize = Size;
        uint index = head;

        // A chain holds at most as many descriptors as the queue (or its indirect table) has: more is a loop.
        uint budget = Size;
        bool indirect = false;
        bool first = true;
        while (true)
        {
            if (budget-- == 0)
            {
                return "the chain loops or is longer than its table";
            }

            if (index >= tableSize)
            {
                return $"descriptor {index} is past a table of {tableSize}";
            }

            byte* d = table + (16 * index);
            ulong address = Unsafe.ReadUnaligned<ulong>(d);
            uint length = Unsafe.ReadUnaligned<uint>(d + 8);
            ushort flags = Unsafe.ReadUnaligned<ushort>(d + 12);
            ushort next = Unsafe.ReadUnaligned<ushort>(d + 14);
            if ((flags & DescriptorIndirect) != 0)
            {
                if (indirect)
                {
                    return "an indirect table inside an indirect table";
                }

                if (!first || (flags & DescriptorNext) != 0)
                {
                    return "an indirect descriptor that is not a chain's only one";
                }

                if (length == 0 || length % 16 != 0 || length / 16 > Size)
                {
                    return $"an indirect table of {length} bytes";
                }

                if (!memory.TryTranslate(address, length, out nint tableAddress))
                {
                    return $"an indirect table at 0x{address:x} outside guest memory";
                }

                table = (byte*)tableAddress;
                tableSize = length / 16;
                budget = tableSize;
                index = 0;
                indirect = true;
                first = false;
                continue;
            }

            first = false;
            if (length > int.MaxValue)
            {
                return $"a buffer of {length} bytes";
            }

            if (!memory.TryTranslate(address, length, out nint host))
            {
                return $"a buffer at 0x{address:x} (+{length}) outside guest memory, or across regions";
            }

            if ((flags & DescriptorWrite) != 0)
            {
                if (length > 0)
                {
                    writable[writableCount++] = new BufferSegment(host, (int)length);
                }
            }
            else
            {
                if (writableCount > 0)
                {
                    return "a readable buffer after a writable one";
                }

                if (length > 0)
                {
                    readable[readableCount++] = new BufferSegment(host, (int)length);
                }
            }

            if ((flags & DescriptorNext) == 0)
            {
                return null;
            }

            index = next;
        }
    }

    /// <summary>Returns a chain with the bytes written to its writable part, published after them (release).</summary>
    public void Push(ushort head, uint written)
    {
        byte* element = _used + 4 + (8 * (UsedIndex % Size));
        Unsafe.WriteUnaligned(element, (uint)head);
        Unsafe.WriteUnaligned(element + 4, written);
        UsedIndex++;
        Volatile.Write(ref *(ushort*)(_used + 2), UsedIndex);
    }

    /// <summary>
    /// Before the worker sleeps: tells the driver (EVENT_IDX) to kick once it adds past what was taken,
    /// then looks again, as the kick for an entry added meanwhile may have been suppressed. True when
    /// there is more to take.
    /// </summary>
    public bool ArmKick()
    {
        if (!EventIndex)
        {
            return AvailIndex != LastAvail;
        }

        Volatile.Write(ref *(ushort*)(_used + 4 + (8 * Size)), LastAvail);

        // A full fence: the store of avail_event must be seen before avail.idx is read again (a store-load order).
        Interlocked.MemoryBarrier();
        return AvailIndex != LastAvail;
    }

    /// <summary>Whether the driver wants an interrupt for what was pushed since the last one.</summary>
    public bool ShouldSignal()
    {
        Interlocked.MemoryBarrier();
        ushort current = UsedIndex;
        if (!EventIndex)
        {
            return (Volatile.Read(ref *(ushort*)_avail) & AvailNoInterrupt) == 0;
        }

        ushort usedEvent = Volatile.Read(ref *(ushort*)(_avail + 4 + (2 * Size)));
        ushort old = _signalledUsed;
        bool valid = _signalledValid;
        _signalledUsed = current;
        _signalledValid = true;

        // vring_need_event: whether used_event lies in (old, current].
        return !valid || (ushort)(current - usedEvent - 1) < (ushort)(current - old);
    }
}

/// <summary>The driver broke a ring's rules; the queue stops until the front-end sets it up again.</summary>
internal sealed class VirtqueueException(string message) : Exception(message);
