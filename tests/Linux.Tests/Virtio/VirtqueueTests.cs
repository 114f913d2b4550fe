using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Tests;
using CastoreFs.Virtio;
using CastoreFs.Virtio.Interop;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// The back-end's rings over guest memory the test maps itself (a memfd), through its real socket: what a
/// Linux guest sends, and every malformed chain and ring a hostile one could make instead.
/// </summary>
[TestClass]
public sealed unsafe class VirtqueueTests
{
    private const ushort Next = 1;
    private const ushort Write = 2;
    private const ushort Indirect = 4;

    /// <summary>GETATTR's reply: the out header and a fuse_attr_out.</summary>
    private const uint GetattrReply = 16 + 104;

    [TestMethod]
    public void Direct_and_indirect_chains_are_answered_with_the_bytes_written()
    {
        using var rig = new Rig();
        var ring = rig.FrontEnd[1];
        Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: 0, unique: 7, indirect: false));
        Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: 3, unique: 8, indirect: true));

        // READ as the guest sends it: one writable descriptor per page, into which the data lands.
        var data = rig.FrontEnd.Allocate(4096 * 3);
        ulong request = rig.FrontEnd.Put(Request(FuseOpcode.Read, rig.BigNode, 9, TestFrontEnd.Bytes(new FuseReadIn { Offset = 0, Size = 3 * 4096 })));
        ulong header = rig.FrontEnd.Allocate(16);
        ring.SetDescriptor(5, request, 40 + 40, Next, 6);
        ring.SetDescriptor(6, header, 16, Write | Next, 7);
        ring.SetDescriptor(7, data + 8192, 4096, Write | Next, 8);
        ring.SetDescriptor(8, data, 4096, Write | Next, 9);
        ring.SetDescriptor(9, data + 4096, 4096, Write);
        var (_, length) = Rig.Complete(ring, 5);
        Assert.AreEqual(16u + (3 * 4096), length);
        Assert.AreEqual(9UL, MemoryMarshal.Read<FuseOutHeader>(new ReadOnlySpan<byte>(rig.FrontEnd.At(header), 16)).Unique);
        var expected = rig.Big.AsSpan(0, 3 * 4096);
        Assert.IsTrue(new ReadOnlySpan<byte>(rig.FrontEnd.At(data + 8192), 4096).SequenceEqual(expected[..4096]));
        Assert.IsTrue(new ReadOnlySpan<byte>(rig.FrontEnd.At(data), 4096).SequenceEqual(expected[4096..8192]));
        Assert.IsTrue(new ReadOnlySpan<byte>(rig.FrontEnd.At(data + 4096), 4096).SequenceEqual(expected[8192..]));
    }

    [TestMethod]
    public void Every_malformed_chain_is_returned_unused_and_the_queue_goes_on()
    {
        using var rig = new Rig();
        var ring = rig.FrontEnd[1];
        ulong ok = rig.FrontEnd.Allocate(4096);
        ulong end = TestFrontEnd.GuestBase + TestFrontEnd.MemorySize;
        ulong table = rig.FrontEnd.Allocate(4096);
        ulong getattr = rig.FrontEnd.Put(Request(FuseOpcode.Getattr, 1, 1, new byte[16]));
        var cases = new (string Name, Action Build)[]
        {
            ("a request with no room for its reply", () => ring.SetDescriptor(0, getattr, 56, 0)),
            ("a reply part shorter than the out header", () => { ring.SetDescriptor(0, getattr, 56, Next, 1); ring.SetDescriptor(1, ok, 8, Write); }),
            ("an address below guest memory", () => ring.SetDescriptor(0, 0x1000, 64, 0)),
            ("an address past guest memory", () => ring.SetDescriptor(0, end + 4096, 64, 0)),
            ("a buffer that runs past the region's end", () => ring.SetDescriptor(0, end - 16, 64, 0)),
            ("an address and length that overflow", () => ring.SetDescriptor(0, ulong.MaxValue - 8, 64, 0)),
            ("a length past 2 GiB", () => ring.SetDescriptor(0, ok, 0x9000_0000, Write)),
            ("a loop", () => { ring.SetDescriptor(0, ok, 40, Next, 1); ring.SetDescriptor(1, ok, 40, Next, 0); }),
            ("a next past the queue", () => ring.SetDescriptor(0, ok, 40, Next, 200)),
            ("readable after writable", () => { ring.SetDescriptor(0, ok, 16, Write | Next, 1); ring.SetDescriptor(1, ok, 40, 0); }),
            ("indirect with next", () => ring.SetDescriptor(0, table, 32, Indirect | Next, 1)),
            ("indirect after a direct one", () => { ring.SetDescriptor(0, ok, 40, Next, 1); ring.SetDescriptor(1, table, 32, Indirect); }),
            ("an indirect table of 0 bytes", () => ring.SetDescriptor(0, table, 0, Indirect)),
            ("an indirect table not of whole entries", () => ring.SetDescriptor(0, table, 24, Indirect)),
            ("an indirect table longer than the queue", () => ring.SetDescriptor(0, table, 16 * 65, Indirect)),
            ("an indirect table outside memory", () => ring.SetDescriptor(0, end, 32, Indirect)),
            ("nested indirect tables", () => { ring.SetDescriptor(0, table, 16, Indirect); TestFrontEnd.Ring.SetDescriptor(rig.FrontEnd.At(table), 0, table, 16, Indirect); }),
            ("an indirect table that loops", () =>
            {
                ring.SetDescriptor(0, table, 32, Indirect);
                TestFrontEnd.Ring.SetDescriptor(rig.FrontEnd.At(table), 0, ok, 40, Next, 1);
                TestFrontEnd.Ring.SetDescriptor(rig.FrontEnd.At(table), 1, ok, 40, Next, 0);
            }),
            ("an indirect entry past its table", () => { ring.SetDescriptor(0, table, 32, Indirect); TestFrontEnd.Ring.SetDescriptor(rig.FrontEnd.At(table), 0, ok, 40, Next, 2); }),
        };

        ushort unique = 100;
        foreach (var (name, build) in cases)
        {
            build();
            var (id, length) = Rig.Complete(ring, 0);
            Assert.AreEqual((0u, 0u), (id, length), $"{name}: returned with nothing written");
            Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: 10, unique: unique++, indirect: unique % 2 == 0), $"after {name}, the queue still serves");
        }

        Assert.AreEqual((long)cases.Length, rig.Malformed(), "each refusal counted");
    }

    [TestMethod]
    public void A_broken_ring_stops_its_queue_alone()
    {
        using var rig = new Rig(queues: [0, 1, 2]);
        var broken = rig.FrontEnd[1];

        // An avail index more than a queue's worth ahead: the driver claims entries that cannot exist.
        broken.AvailIndex = 200;
        Libc.Signal(broken.Kick);
        Assert.IsTrue(WaitReadable(broken.Err), "the err eventfd tells the front-end");
        Assert.AreEqual(GetattrReply, rig.Getattr(rig.FrontEnd[2], head: 0, unique: 1, indirect: false), "the other request queue serves on");

        // Set up again (as QEMU does at a reset), then an avail entry naming a descriptor past the queue.
        rig.FrontEnd.StopRing(1);
        broken.AvailIndex = 0;
        broken.UsedIndex = 0;
        rig.FrontEnd.Send(10, TestFrontEnd.Bytes(new VringState { Index = 1, Num = 0 }));
        rig.FrontEnd.RestartRing(1);
        Assert.AreEqual(GetattrReply, rig.Getattr(broken, head: 0, unique: 2, indirect: false), "the queue restarts clean");
        broken.Offer(64);
        Assert.IsTrue(WaitReadable(broken.Err), "a head past the queue stops it");
        Assert.AreEqual(GetattrReply, rig.Getattr(rig.FrontEnd[2], head: 1, unique: 3, indirect: true));
    }

    [TestMethod]
    public void Indices_wrap_around_the_queue_and_around_65536()
    {
        using var rig = new Rig(size: 4, startAt: 65530);
        var ring = rig.FrontEnd[1];
        for (int i = 0; i < 12; i++)
        {
            // Indirect: a direct chain of three would not fit a queue of four at every head.
            Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: (ushort)(i % 4), unique: (ulong)(i + 1), indirect: true), $"request {i}");
        }

        Assert.AreEqual((ushort)7, ring.UsedIndex, "65530, the lookup and 12 more: past 65536");
        Assert.AreEqual(7u, rig.FrontEnd.StopRing(1), "GET_VRING_BASE: the next avail index");
    }

    [TestMethod]
    public void Event_index_suppresses_interrupts_the_driver_did_not_ask_for()
    {
        using var rig = new Rig(eventIndex: true);
        var ring = rig.FrontEnd[1];
        Libc.Drain(ring.Call);
        ushort used = ring.UsedIndex;
        ring.UsedEvent = used;
        rig.Getattr(ring, head: 0, unique: 1, indirect: false);
        Assert.IsTrue(Libc.Drain(ring.Call), "used passes used_event: an interrupt");
        Assert.AreEqual(ring.AvailIndex, ring.AvailEvent, "the device asks to be kicked at the next avail index");

        rig.Getattr(ring, head: 0, unique: 2, indirect: false);
        Assert.IsFalse(Libc.Drain(ring.Call), "used_event was passed before: no interrupt");

        ring.UsedEvent = (ushort)(used + 2);
        rig.Getattr(ring, head: 0, unique: 3, indirect: false);
        Assert.IsTrue(Libc.Drain(ring.Call), "used passes the new used_event");
        Assert.AreEqual(ring.AvailIndex, ring.AvailEvent);

        // Without a kick, an entry made available after avail_event waits for one: the driver was told to kick.
        rig.BuildGetattr(ring, head: 0, unique: 4, indirect: false);
        ushort before = ring.UsedIndex;

        // Let the worker finish its last look at the ring and sleep (an entry it sees before that is served, rightly).
        Thread.Sleep(200);
        ring.Offer(0, kick: false);
        Thread.Sleep(200);
        Assert.AreEqual(before, ring.UsedIndex, "nothing polls the ring between kicks");
        Libc.Signal(ring.Kick);
        Assert.IsTrue(ring.WaitUsed((ushort)(before + 1)));
    }

    [TestMethod]
    public void Memory_tables_and_call_fds_can_be_replaced_while_queues_run()
    {
        using var rig = new Rig();
        var ring = rig.FrontEnd[1];
        Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: 0, unique: 1, indirect: false));
        rig.FrontEnd.AddRegion();

        // A reply into the hot-plugged region: the new table is the one in use. A buffer across the gap between regions is refused.
        ulong request = rig.FrontEnd.Put(Request(FuseOpcode.Getattr, 1, 2, new byte[16]));
        ulong reply = TestFrontEnd.SecondBase + 4096;
        ring.SetDescriptor(1, request, 56, Next, 2);
        ring.SetDescriptor(2, reply, 120, Write);
        Assert.AreEqual((1u, GetattrReply), Rig.Complete(ring, 1));
        Assert.AreEqual(2UL, MemoryMarshal.Read<FuseOutHeader>(new ReadOnlySpan<byte>(rig.FrontEnd.At(reply), 16)).Unique);
        ring.SetDescriptor(2, TestFrontEnd.SecondBase - 64, 120, Write);
        Assert.AreEqual((1u, 0u), Rig.Complete(ring, 1));

        int call = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try
        {
            // Every push without EVENT_IDX signals: once the last one's signal is in, the old fd gets no more.
            Assert.IsTrue(WaitReadable(ring.Call));
            rig.FrontEnd.SetCall(1, call);
            rig.Getattr(ring, head: 2, unique: 3, indirect: false);
            Assert.IsTrue(WaitReadable(call), "the new call fd is signalled");
            Assert.IsFalse(Libc.Drain(ring.Call), "the old one is not");
        }
        finally
        {
            Libc.Close(call);
        }

        // GET_VRING_BASE stops the ring: chains offered then wait until it starts again.
        ushort taken = ring.AvailIndex;
        Assert.IsTrue(ring.WaitUsed(taken));
        Assert.AreEqual((uint)taken, rig.FrontEnd.StopRing(1));
        rig.BuildGetattr(ring, head: 3, unique: 4, indirect: false);
        ring.Offer(3);
        Thread.Sleep(200);
        Assert.AreEqual(taken, ring.UsedIndex, "a stopped ring is not served");
        rig.FrontEnd.RestartRing(1);
        Assert.IsTrue(ring.WaitUsed((ushort)(taken + 1)));
    }

    [TestMethod]
    public void Random_chains_never_crash_the_back_end()
    {
        using var rig = new Rig(size: 64);
        var ring = rig.FrontEnd[1];
        int seed = Environment.TickCount;
        var random = new Random(seed);
        ulong table = rig.FrontEnd.Allocate(64 * 16);
        var buffers = new[] { rig.FrontEnd.Allocate(8192), TestFrontEnd.GuestBase + TestFrontEnd.MemorySize - 100, 0UL, ulong.MaxValue - 10, table };
        for (int round = 0; round < 3000; round++)
        {
            for (int i = 0; i < 64; i++)
            {
                ulong address = buffers[random.Next(buffers.Length)] + (ulong)random.Next(0, 64);
                uint length = random.Next(4) == 0 ? (uint)random.Next() : (uint)random.Next(0, 300);
                ushort flags = (ushort)random.Next(8);
                ring.SetDescriptor(i, address, length, flags, (ushort)random.Next(0, 70));
                TestFrontEnd.Ring.SetDescriptor(rig.FrontEnd.At(table), i, address, length, (ushort)random.Next(8), (ushort)random.Next(0, 70));
            }

            // A valid request in the buffer, so that some random chains are well formed and reach the server.
            Request(FuseOpcode.Getattr, 1, (ulong)round, new byte[16]).CopyTo(new Span<byte>(rig.FrontEnd.At(buffers[0]), 56));
            ushort used = (ushort)(ring.UsedIndex + 1);
            ring.Offer((ushort)random.Next(64));
            Assert.IsTrue(ring.WaitUsed(used), $"seed {seed}, round {round}: chain returned");
        }

        Assert.AreEqual(GetattrReply, rig.Getattr(ring, head: 0, unique: 1, indirect: false), $"seed {seed}: still serving");
        Assert.IsFalse(rig.Transport.Completion.IsCompleted, "the back-end is alive");
    }

    private static bool WaitReadable(int eventFd)
    {
        for (int i = 0; i < 1000; i++)
        {
            if (Libc.Drain(eventFd))
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return false;
    }

    private static byte[] Request(FuseOpcode opcode, ulong node, ulong unique, ReadOnlySpan<byte> body)
    {
        var request = new byte[40 + body.Length];
        var header = new FuseInHeader { Length = (uint)request.Length, Opcode = opcode, Unique = unique, NodeId = node };
        MemoryMarshal.Write(request, in header);
        body.CopyTo(request.AsSpan(40));
        return request;
    }

    /// <summary>A back-end over the seed store, a front-end connected to it with its queues set up.</summary>
    private sealed class Rig : IDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly CastoreFileSystem _fs;

        public Rig(int size = 64, bool eventIndex = false, int[]? queues = null, ushort startAt = 0)
        {
            var store = SeedStore.Create();
            Big = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 << 10);
            var digest = CastoreFs.Core.Services.Blobs.BlobWriterExtensions.PutAsync(store.Blobs, Big).GetAwaiter().GetResult();
            SeedStore.Put(store, new Snix.Castore.V1.Node { File = new Snix.Castore.V1.FileNode { Name = SeedStore.Bytes("99999999999999999999999999999999-big"), Digest = digest.ToByteString(), Size = (ulong)Big.Length } });
            _fs = CastoreFileSystem.OpenAsync(store).GetAwaiter().GetResult();
            Transport = VirtioFsTransport.Start(_fs, _dir.Combine("fs.sock"), new VirtioFsOptions { Threads = 2 });
            FrontEnd = new TestFrontEnd(Transport.SocketPath);
            FrontEnd.Start(size, eventIndex, queues ?? [0, 1]);
            if (startAt != 0)
            {
                var ring = FrontEnd[1];
                FrontEnd.StopRing(1);
                ring.AvailIndex = startAt;
                ring.UsedIndex = startAt;
                FrontEnd.Send(10, TestFrontEnd.Bytes(new VringState { Index = 1, Num = startAt }));
                FrontEnd.RestartRing(1);
            }

            var lookup = Request(FuseOpcode.Lookup, 1, 1, [.. "99999999999999999999999999999999-big"u8, 0]);
            var (_, length) = Exchange(FrontEnd[1], (ushort)(size - 2), lookup, 16 + 128, out var reply);
            Assert.AreEqual(16u + 128, length);
            BigNode = MemoryMarshal.Read<FuseEntryOut>(reply.AsSpan(16)).NodeId;
        }

        public TestFrontEnd FrontEnd { get; }

        public VirtioFsTransport Transport { get; }

        public byte[] Big { get; }

        public ulong BigNode { get; }

        /// <summary>Malformed chains the live device refused.</summary>
        public long Malformed() => Transport.Malformed;

        /// <summary>Writes a GETATTR of the root at <paramref name="head"/>, direct or through an indirect table.</summary>
        public void BuildGetattr(TestFrontEnd.Ring ring, ushort head, ulong unique, bool indirect)
        {
            ulong request = FrontEnd.Put(Request(FuseOpcode.Getattr, 1, unique, new byte[16]));
            ulong reply = FrontEnd.Allocate(16 + 104);
            if (indirect)
            {
                ulong table = FrontEnd.Allocate(48);
                TestFrontEnd.Ring.SetDescriptor(FrontEnd.At(table), 0, request, 56, Next, 1);
                TestFrontEnd.Ring.SetDescriptor(FrontEnd.At(table), 1, reply, 16, Write | Next, 2);
                TestFrontEnd.Ring.SetDescriptor(FrontEnd.At(table), 2, reply + 16, 104, Write);
                ring.SetDescriptor(head, table, 48, Indirect);
            }
            else
            {
                ring.SetDescriptor(head, request, 40, Next, (ushort)(head + 1));
                ring.SetDescriptor(head + 1, request + 40, 16, Next, (ushort)(head + 2));
                ring.SetDescriptor(head + 2, reply, 120, Write);
            }
        }

        /// <summary>A GETATTR answered: its used.len, after checking the reply is for it.</summary>
        public uint Getattr(TestFrontEnd.Ring ring, ushort head, ulong unique, bool indirect)
        {
            BuildGetattr(ring, head, unique, indirect);
            var (id, length) = Complete(ring, head);
            Assert.AreEqual((uint)head, id);
            return length;
        }

        public static (uint Id, uint Length) Complete(TestFrontEnd.Ring ring, ushort head)
        {
            ushort used = ring.UsedIndex;
            ring.Offer(head);
            Assert.IsTrue(ring.WaitUsed((ushort)(used + 1)), "the chain came back");
            return ring.UsedAt(used);
        }

        public void Dispose()
        {
            FrontEnd.Dispose();
            Assert.IsTrue(Transport.Completion.Wait(TimeSpan.FromSeconds(10)), "the front-end left: the back-end ends");
            Transport.Dispose();
            _fs.Dispose();
            _dir.Dispose();
        }

        private (uint Id, uint Length) Exchange(TestFrontEnd.Ring ring, ushort head, byte[] request, int replyLength, out byte[] reply)
        {
            ulong r = FrontEnd.Put(request);
            ulong w = FrontEnd.Allocate(replyLength);
            ring.SetDescriptor(head, r, (uint)request.Length, Next, (ushort)(head + 1));
            ring.SetDescriptor(head + 1, w, (uint)replyLength, Write);
            var result = Complete(ring, head);
            reply = new ReadOnlySpan<byte>(FrontEnd.At(w), replyLength).ToArray();
            return result;
        }
    }
}
