using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using CastoreFs.Virtio;
using CastoreFs.Virtio.Interop;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// A vhost-user front-end in the test process, playing QEMU and the guest's driver at once: guest memory
/// is a memfd it maps itself, rings and buffers are written into it by hand, so that any chain a hostile
/// guest could make can be put before the back-end.
/// </summary>
internal sealed unsafe class TestFrontEnd : IDisposable
{
    /// <summary>Where guest memory starts in guest-physical addresses.</summary>
    public const ulong GuestBase = 0x100000;

    public const int MemorySize = 4 << 20;

    private const int RingArea = 0x4000;
    private readonly int _socket;
    private readonly int _memfd;
    private readonly Dictionary<int, Ring> _rings = [];
    private byte* _memory;
    private byte* _second;
    private int _secondFd = -1;
    private int _nextBuffer = 0x40000;

    public TestFrontEnd(string socketPath)
    {
        _socket = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        var address = new Libc.SockAddrUnix { Family = Libc.AF_UNIX };
        var bytes = Encoding.UTF8.GetBytes(socketPath);
        bytes.CopyTo(new Span<byte>(address.Path, 108));
        Assert.AreEqual(0, Libc.Connect(_socket, &address, (uint)(3 + bytes.Length)), "connect to the back-end");
        _memfd = FrontEndInterop.MemfdCreate("guest", FrontEndInterop.MFD_CLOEXEC);
        Assert.AreEqual(0, FrontEndInterop.Ftruncate(_memfd, MemorySize));
        _memory = Map(_memfd);
    }

    /// <summary>The front-end's own address of guest memory (what SET_VRING_ADDR names).</summary>
    public ulong UserBase => (ulong)_memory;

    public byte* At(ulong guestAddress) => guestAddress >= SecondBase ? _second + (guestAddress - SecondBase) : _memory + (guestAddress - GuestBase);

    /// <summary>Negotiates as QEMU does and sets up the given queues, each of <paramref name="size"/> entries.</summary>
    public void Start(int size, bool eventIndex, params int[] queues)
    {
        Assert.AreEqual(0x170000000UL, Request<ulong>(1, []), "VERSION_1, INDIRECT_DESC, EVENT_IDX, PROTOCOL_FEATURES: no packed ring, no IOMMU");
        Assert.AreEqual(0x9UL, Request<ulong>(15, []));
        Send(16, Bytes(0x9UL));
        Assert.AreEqual(17UL, Request<ulong>(17, []), "1 hiprio queue and 16 request queues");
        Send(3, []);
        Send(2, Bytes(0x150000000UL | (eventIndex ? 1UL << 29 : 0)));
        SetMemoryTable(_memfd, UserBase);
        foreach (var queue in queues)
        {
            var ring = new Ring(this, queue, size, GuestBase + (ulong)(RingArea * (1 + queue)));
            _rings[queue] = ring;
            Send(8, Bytes(new VringState { Index = (uint)queue, Num = (uint)size }));
            Send(10, Bytes(new VringState { Index = (uint)queue, Num = 0 }));
            Send(9, Bytes(new VringAddress
            {
                Index = (uint)queue,
                Descriptors = UserBase + (ring.Descriptors - GuestBase),
                Used = UserBase + (ring.Used - GuestBase),
                Available = UserBase + (ring.Avail - GuestBase),
            }));
            SetCall(queue, ring.Call);
            SendWithFd(14, Bytes((ulong)queue), ring.Err);
            SendWithFd(12, Bytes((ulong)queue), ring.Kick);
            Send(18, Bytes(new VringState { Index = (uint)queue, Num = 1 }));
        }
    }

    public Ring this[int queue] => _rings[queue];

    /// <summary>Where a second region starts once <see cref="AddRegion"/> hot-plugged it (a gap after the first).</summary>
    public const ulong SecondBase = GuestBase + (2UL * MemorySize);

    /// <summary>A new memory table while the rings run, as after a memory hotplug: the first region as before, and a second one.</summary>
    public void AddRegion()
    {
        _secondFd = FrontEndInterop.MemfdCreate("hotplugged", FrontEndInterop.MFD_CLOEXEC);
        Assert.AreEqual(0, FrontEndInterop.Ftruncate(_secondFd, MemorySize));
        _second = Map(_secondFd);
        var payload = new byte[8 + 64];
        BitConverter.TryWriteBytes(payload.AsSpan(0), 2u);
        WriteRegion(payload.AsSpan(8), GuestBase, UserBase);
        WriteRegion(payload.AsSpan(40), SecondBase, (ulong)_second);
        Expect0(Request(5, payload, needReply: true, _memfd, _secondFd));
    }

    public void SetCall(int queue, int eventFd) => SendWithFd(13, Bytes((ulong)queue), eventFd);

    /// <summary>GET_VRING_BASE: the ring stops; the next avail index comes back.</summary>
    public uint StopRing(int queue)
    {
        var reply = Request(11, Bytes(new VringState { Index = (uint)queue }));
        return MemoryMarshal.Read<VringState>(reply).Num;
    }

    public void RestartRing(int queue) => SendWithFd(12, Bytes((ulong)queue), _rings[queue].Kick);

    /// <summary>Guest-physical room for a buffer, zeroed.</summary>
    public ulong Allocate(int length)
    {
        ulong address = GuestBase + (ulong)_nextBuffer;
        _nextBuffer += (length + 4095) & ~4095;
        Assert.IsLessThan(MemorySize, _nextBuffer, "the test's guest memory is full");
        new Span<byte>(At(address), length).Clear();
        return address;
    }

    public ulong Put(ReadOnlySpan<byte> data)
    {
        ulong address = Allocate(data.Length);
        data.CopyTo(new Span<byte>(At(address), data.Length));
        return address;
    }

    /// <summary>A request message that must be answered with ack 0 (REPLY_ACK).</summary>
    public void Send(uint request, ReadOnlySpan<byte> payload) => Expect0(Request(request, payload, needReply: true));

    public void SendWithFd(uint request, ReadOnlySpan<byte> payload, int fd) => Expect0(Request(request, payload, needReply: true, fd));

    /// <summary>A request and its reply body.</summary>
    public byte[] Request(uint request, ReadOnlySpan<byte> payload, bool needReply = false, int fd = -1, int secondFd = -1)
    {
        var message = new byte[12 + payload.Length];
        BitConverter.TryWriteBytes(message.AsSpan(0), request);
        BitConverter.TryWriteBytes(message.AsSpan(4), 1u | (needReply ? 1u << 3 : 0));
        BitConverter.TryWriteBytes(message.AsSpan(8), (uint)payload.Length);
        payload.CopyTo(message.AsSpan(12));
        fixed (byte* p = message)
        {
            var iov = new Libc.IoVec { Base = p, Length = (nuint)message.Length };
            byte* control = stackalloc byte[24];
            int fds = secondFd >= 0 ? 2 : 1;
            var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
            if (fd >= 0)
            {
                var cmsg = (Libc.CmsgHdr*)control;
                cmsg->Length = (nuint)(16 + (4 * fds));
                cmsg->Level = Libc.SOL_SOCKET;
                cmsg->Type = Libc.SCM_RIGHTS;
                *(int*)(control + 16) = fd;
                *(int*)(control + 20) = secondFd;
                header.Control = control;
                header.ControlLength = 24;
            }

            Assert.AreEqual((nint)message.Length, FrontEndInterop.SendMsg(_socket, &header, 0));
        }

        var reply = new byte[12];
        ReadExactly(reply);
        Assert.AreEqual(request, BitConverter.ToUInt32(reply, 0), "a reply to the request sent");
        Assert.AreEqual(5u, BitConverter.ToUInt32(reply, 4), "reply flags are 0x5");
        var body = new byte[BitConverter.ToUInt32(reply, 8)];
        ReadExactly(body);
        return body;
    }

    public T Request<T>(uint request, ReadOnlySpan<byte> payload)
        where T : unmanaged => MemoryMarshal.Read<T>(Request(request, payload));

    public static byte[] Bytes<T>(T value)
        where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref value)).ToArray();

    public void Dispose()
    {
        Libc.Close(_socket);
        foreach (var ring in _rings.Values)
        {
            ring.Dispose();
        }

        Libc.Munmap((nint)_memory, MemorySize);
        Libc.Close(_memfd);
        if (_secondFd >= 0)
        {
            Libc.Munmap((nint)_second, MemorySize);
            Libc.Close(_secondFd);
        }
    }

    private static byte* Map(int memfd)
    {
        nint address = Libc.Mmap(0, MemorySize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, memfd, 0);
        Assert.AreNotEqual((nint)(-1), address);
        return (byte*)address;
    }

    private static void Expect0(byte[] reply)
    {
        Assert.HasCount(8, reply);
        Assert.AreEqual(0UL, BitConverter.ToUInt64(reply), "the back-end acked with success");
    }

    private static void WriteRegion(Span<byte> region, ulong guestAddress, ulong userAddress)
    {
        BitConverter.TryWriteBytes(region, guestAddress);
        BitConverter.TryWriteBytes(region[8..], (ulong)MemorySize);
        BitConverter.TryWriteBytes(region[16..], userAddress);
        BitConverter.TryWriteBytes(region[24..], 0UL);
    }

    private void SetMemoryTable(int memfd, ulong userBase)
    {
        var payload = new byte[8 + 32];
        BitConverter.TryWriteBytes(payload.AsSpan(0), 1u);
        WriteRegion(payload.AsSpan(8), GuestBase, userBase);
        SendWithFd(5, payload, memfd);
    }

    private void ReadExactly(Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Read(_socket, p + done, (nuint)(buffer.Length - done));
            }

            if (n <= 0)
            {
                throw new AssertFailedException("the back-end closed the connection");
            }

            done += (int)n;
        }
    }

    /// <summary>One split ring as the driver sees it.</summary>
    public sealed class Ring : IDisposable
    {
        private readonly TestFrontEnd _owner;

        public Ring(TestFrontEnd owner, int queue, int size, ulong area)
        {
            _owner = owner;
            Queue = queue;
            Size = size;
            Descriptors = area;
            Avail = area + (16UL * (ulong)size);
            Used = (Avail + 6 + (2UL * (ulong)size) + 3) & ~3UL;
            Call = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            Err = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            Kick = Libc.EventFd(0, Libc.EFD_CLOEXEC);
            new Span<byte>(owner.At(area), RingArea).Clear();
        }

        public int Queue { get; }

        public int Size { get; }

        public ulong Descriptors { get; }

        public ulong Avail { get; }

        public ulong Used { get; }

        public int Call { get; }

        public int Err { get; }

        public int Kick { get; }

        public ushort AvailIndex
        {
            get => Volatile.Read(ref *(ushort*)_owner.At(Avail + 2));
            set => Volatile.Write(ref *(ushort*)_owner.At(Avail + 2), value);
        }

        public ushort UsedIndex
        {
            get => Volatile.Read(ref *(ushort*)_owner.At(Used + 2));
            set => Volatile.Write(ref *(ushort*)_owner.At(Used + 2), value);
        }

        /// <summary>EVENT_IDX: the used index after which the driver wants an interrupt.</summary>
        public ushort UsedEvent
        {
            set => Volatile.Write(ref *(ushort*)_owner.At(Avail + 4 + (2 * (ulong)Size)), value);
        }

        /// <summary>EVENT_IDX: the avail index the device asks to be kicked at.</summary>
        public ushort AvailEvent => Volatile.Read(ref *(ushort*)_owner.At(Used + 4 + (8 * (ulong)Size)));

        public void SetDescriptor(int index, ulong address, uint length, ushort flags, ushort next = 0) =>
            SetDescriptor(_owner.At(Descriptors), index, address, length, flags, next);

        public static void SetDescriptor(byte* table, int index, ulong address, uint length, ushort flags, ushort next = 0)
        {
            byte* d = table + (16 * index);
            Unsafe.WriteUnaligned(d, address);
            Unsafe.WriteUnaligned(d + 8, length);
            Unsafe.WriteUnaligned(d + 12, flags);
            Unsafe.WriteUnaligned(d + 14, next);
        }

        /// <summary>Makes the chain at <paramref name="head"/> available and kicks.</summary>
        public void Offer(ushort head, bool kick = true)
        {
            ushort index = AvailIndex;
            Unsafe.WriteUnaligned(_owner.At(Avail + 4 + (2 * ((ulong)index % (ulong)Size))), head);
            AvailIndex = (ushort)(index + 1);
            if (kick)
            {
                Libc.Signal(Kick);
            }
        }

        /// <summary>Waits until the used index reaches <paramref name="index"/>; false on timeout.</summary>
        public bool WaitUsed(ushort index, int milliseconds = 10_000)
        {
            var deadline = Environment.TickCount64 + milliseconds;
            while ((short)(UsedIndex - index) < 0)
            {
                if (Environment.TickCount64 > deadline)
                {
                    return false;
                }

                Thread.Sleep(1);
            }

            return true;
        }

        /// <summary>The used element at <paramref name="index"/>: the chain's head and the bytes written.</summary>
        public (uint Id, uint Length) UsedAt(ushort index)
        {
            byte* element = _owner.At(Used + 4 + (8 * ((ulong)index % (ulong)Size)));
            return (Unsafe.ReadUnaligned<uint>(element), Unsafe.ReadUnaligned<uint>(element + 4));
        }

        public void Dispose()
        {
            Libc.Close(Call);
            Libc.Close(Err);
            Libc.Close(Kick);
        }
    }
}
