using System.Runtime.InteropServices;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.IO;
using CastoreFs.Virtio.Interop;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Virtio;

/// <summary>
/// One virtqueue of the device: what the front-end set (size, ring addresses, kick, call and err fds,
/// enabled) and the worker thread that serves it. The worker starts when the ring is complete and stops on
/// GET_VRING_BASE, a new kick fd, a reset or a disconnect; whatever a guest puts in the ring, it fails
/// this queue alone.
/// </summary>
internal sealed partial class VirtioQueue : IDisposable
{
    private readonly int _index;
    private readonly int _threads;
    private readonly FuseServer _server;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly int _wake = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    private readonly SemaphoreSlim _work = new(0);
    private readonly List<Thread> _helpers = [];
    private GuestMemory _memory = GuestMemory.Empty;
    private SplitVirtqueue? _ring;
    private int _idleHelpers;
    private volatile bool _enabled;
    private Thread? _worker;
    private volatile bool _stopping;
    private int _kick = -1;
    private int _call = -1;
    private int _err = -1;
    private ushort _size;
    private ushort _base;
    private VringAddress _addresses;
    private bool _hasAddresses;
    private long _malformed;

    public VirtioQueue(int index, FuseServer server, int threads, ILogger logger)
    {
        _index = index;
        _threads = Math.Max(1, threads);
        _server = server;
        _logger = logger;
    }

    /// <summary>Whether the driver may use the ring: SET_VRING_ENABLE, or always without protocol features.</summary>
    public bool Enabled => _enabled;

    public bool EventIndex { get; set; }

    /// <summary>Chains refused as malformed since the queue was made.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    public void SetSize(uint size)
    {
        if (size == 0 || size > 32768 || (size & (size - 1)) != 0)
        {
            throw new VhostUserException($"queue {_index}: size {size} is not a power of two up to 32768");
        }

        _size = (ushort)size;
    }

    public void SetBase(uint next) => _base = (ushort)next;

    public void SetAddresses(in VringAddress addresses)
    {
        _addresses = addresses;
        _hasAddresses = true;
    }

    /// <summary>A new memory table: the ring's addresses are found again in it.</summary>
    public void SetMemory(GuestMemory memory)
    {
        lock (_lock)
        {
            _memory = memory;
            if (_ring is { } ring)
            {
                _ring = MapRing(ring.LastAvail) ?? throw new VhostUserException($"queue {_index}: the ring is outside the new memory table");
            }
        }
    }

    public void SetCall(int fd) => Replace(ref _call, fd);

    public void SetErr(int fd) => Replace(ref _err, fd);

    /// <summary>A new kick fd (re)starts the ring once it is complete; -1 stops it.</summary>
    public void SetKick(int fd, bool enabled)
    {
        Stop();
        _kick = fd;
        _enabled = enabled;
        TryStart();
    }

    public void SetEnabled(bool enabled)
    {
        _enabled = enabled;
        if (enabled)
        {
            TryStart();
            Libc.Signal(_wake);
        }
    }

    /// <summary>Stops the ring (GET_VRING_BASE): returns the next avail index, the one to resume at.</summary>
    public ushort StopRing()
    {
        Stop();
        return _base;
    }

    private void TryStart()
    {
        if (_worker is not null || _kick < 0 || !_hasAddresses || _size == 0)
        {
            return;
        }

        lock (_lock)
        {
            _ring = MapRing(_base);
            if (_ring is null)
            {
                LogRingOutside(_index);
                return;
            }
        }

        _stopping = false;
        _idleHelpers = 0;
        _worker = new Thread(Serve) { IsBackground = true, Name = $"virtq-{_index}" };
        _worker.Start();
        for (int i = 1; i < _threads; i++)
        {
            var helper = new Thread(Help) { IsBackground = true, Name = $"virtq-{_index}.{i}" };
            _helpers.Add(helper);
            helper.Start();
        }
    }

    private void Stop()
    {
        if (_worker is { } worker)
        {
            _stopping = true;
            Libc.Signal(_wake);
            if (_helpers.Count > 0)
            {
                _work.Release(_helpers.Count);
            }

            worker.Join();
            _helpers.ForEach(h => h.Join());
            _helpers.Clear();
            _worker = null;
            lock (_lock)
            {
                _base = _ring?.LastAvail ?? _base;
                _ring = null;
            }
        }

        if (_kick >= 0)
        {
            Libc.Close(_kick);
            _kick = -1;
        }
    }

    private SplitVirtqueue? MapRing(ushort lastAvail)
    {
        var a = _addresses;
        return _memory.TryTranslateUser(a.Descriptors, SplitVirtqueue.DescriptorTableBytes(_size), out nint descriptors)
            && _memory.TryTranslateUser(a.Available, SplitVirtqueue.AvailBytes(_size), out nint avail)
            && _memory.TryTranslateUser(a.Used, SplitVirtqueue.UsedBytes(_size), out nint used)
            ? new SplitVirtqueue(descriptors, avail, used, _size, lastAvail, EventIndex)
            : null;
    }

    private void Replace(ref int slot, int fd)
    {
        // Under the lock: a worker signalling the old fd is done with it before it closes.
        int old;
        lock (_lock)
        {
            old = slot;
            slot = fd;
        }

        if (old >= 0)
        {
            Libc.Close(old);
        }
    }

    public void Dispose()
    {
        Stop();
        Replace(ref _call, -1);
        Replace(ref _err, -1);
        Libc.Close(_wake);
        _work.Dispose();
    }

    private unsafe void Serve()
    {
        var buffers = new ChainBuffers(_size);
        var fds = stackalloc Libc.PollFd[2];
        try
        {
            while (!_stopping)
            {
                fds[0] = new Libc.PollFd { Fd = _kick, Events = Libc.POLLIN };
                fds[1] = new Libc.PollFd { Fd = _wake, Events = Libc.POLLIN };
                if (Libc.Poll(fds, 2, -1) < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    LogPollFailed(_index, Libc.Describe(errno));
                    return;
                }

                Libc.Drain(_wake);
                if (_stopping)
                {
                    return;
                }

                // The kick is only a wake-up: the avail ring says what there is.
                if ((fds[0].Revents & Libc.POLLIN) != 0)
                {
                    ulong kicks;
                    Libc.Read(_kick, &kicks, 8);
                }

                if (Enabled && !Drain(buffers))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            LogWorkerCrashed(_index, e);
        }
    }

    private void Help()
    {
        var buffers = new ChainBuffers(_size);
        try
        {
            while (true)
            {
                Interlocked.Increment(ref _idleHelpers);
                _work.Wait();
                if (_stopping || !Drain(buffers))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            LogWorkerCrashed(_index, e);
        }
    }

    private void WakeHelper()
    {
        int idle = Volatile.Read(ref _idleHelpers);
        while (idle > 0)
        {
            int seen = Interlocked.CompareExchange(ref _idleHelpers, idle - 1, idle);
            if (seen == idle)
            {
                _work.Release();
                return;
            }

            idle = seen;
        }
    }

    /// <summary>Serves every chain the driver made available; false when the ring broke and the queue stops.</summary>
    private bool Drain(ChainBuffers buffers)
    {
        while (!_stopping)
        {
            ushort head;
            GuestMemory memory;
            SplitVirtqueue ring;
            lock (_lock)
            {
                if (_ring is null)
                {
                    return true;
                }

                ring = _ring;
                try
                {
                    if (!ring.TryPop(out head))
                    {
                        if (!ring.ArmKick())
                        {
                            return true;
                        }

                        continue;
                    }

                    // More behind this one: a helper takes it, so that a slow chain holds up no other. A
                    // request at a time (a find, a ls) wakes no one.
                    if (ring.HasAvailable)
                    {
                        WakeHelper();
                    }
                }
                catch (VirtqueueException e)
                {
                    LogRingBroken(_index, e.Message);
                    if (_err >= 0)
                    {
                        Libc.Signal(_err);
                    }

                    _ring = null;
                    return false;
                }

                memory = _memory;
                if (!memory.TryHold())
                {
                    return true;
                }
            }

            uint written;
            try
            {
                written = Serve(ring, head, memory, buffers);
            }
            finally
            {
                memory.Release();
            }

            lock (_lock)
            {
                // The ring may have been remapped meanwhile (a new memory table): push to the current one.
                var current = _ring ?? ring;
                current.Push(head, written);
                if (current.ShouldSignal() && _call >= 0)
                {
                    Libc.Signal(_call);
                }
            }
        }

        return true;
    }

    /// <summary>Serves one chain: gathers the request, lets the FUSE server reply into the writable part. Returns used.len.</summary>
    private uint Serve(SplitVirtqueue ring, ushort head, GuestMemory memory, ChainBuffers buffers)
    {
        var why = ring.Walk(head, memory, buffers.Readable, out int readableCount, buffers.Writable, out int writableCount);
        if (why is not null)
        {
            CountMalformed(head, why);
            return 0;
        }

        var request = buffers.Gather(readableCount);
        var writable = buffers.Writable[..writableCount];
        Span<byte> header = stackalloc byte[FuseServerOptions.OutHeaderSize];
        var payload = buffers.PayloadAfterHeader(writable, out long room);
        if (room < FuseServerOptions.OutHeaderSize)
        {
            // No room for a reply: right for FORGET (the hiprio queue's, with no writable part), which is
            // served; any other request is refused as the malformed chain it is.
            if (FuseServer.TakesNoReply(request))
            {
                _server.HandleRequest(request, header, new FuseReplyPayload([], []));
            }
            else
            {
                CountMalformed(head, "no room for the reply");
            }

            return 0;
        }

        int length = _server.HandleRequest(request, header, new FuseReplyPayload(payload, buffers.Scratch));
        if (length == 0)
        {
            return 0;
        }

        BufferSegment.Scatter(header, writable);
        return (uint)length;
    }

    /// <summary>Logs the first ten refusals and every thousandth after: a hostile guest cannot flood the log.</summary>
    private void CountMalformed(ushort head, string why)
    {
        long count = Interlocked.Increment(ref _malformed);
        if (count <= 10 || count % 1000 == 0)
        {
            LogMalformed(_index, head, why, count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "queue {Queue}: chain {Head} refused ({Reason}); {Count} so far")]
    private partial void LogMalformed(int queue, ushort head, string reason, long count);

    [LoggerMessage(Level = LogLevel.Error, Message = "queue {Queue} stopped: {Reason}")]
    private partial void LogRingBroken(int queue, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "queue {Queue}: the ring's addresses are outside guest memory; it does not start")]
    private partial void LogRingOutside(int queue);

    [LoggerMessage(Level = LogLevel.Error, Message = "queue {Queue}: poll failed: {Reason}; the worker stops")]
    private partial void LogPollFailed(int queue, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "queue {Queue}: the worker crashed")]
    private partial void LogWorkerCrashed(int queue, Exception exception);
}
