using System.Runtime.InteropServices;
using CastoreFs.Core.Fuse;
using CastoreFs.Virtio.Interop;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Virtio;

/// <summary>
/// The vhost-user-fs device for one front-end connection: answers its control messages (features, the
/// memory table, ring set-up, kick/call fds) and runs a worker per queue, queue 0 being hiprio (FORGET)
/// and 1..n the request queues. Every queue carries FUSE messages to the same server.
/// </summary>
internal sealed partial class VhostUserFsDevice : IDisposable
{
    /// <summary>Request queues the device offers at most; QEMU's num-request-queues must not ask for more.</summary>
    public const int MaxRequestQueues = 16;

    private readonly VhostUserChannel _channel;
    private readonly FuseServer _server;
    private readonly ILogger _logger;
    private readonly VirtioQueue?[] _queues = new VirtioQueue?[1 + MaxRequestQueues];
    private GuestMemory _memory = GuestMemory.Empty;
    private ulong _features;
    private ulong _protocolFeatures;

    private readonly int _threads;

    public VhostUserFsDevice(VhostUserChannel channel, FuseServer server, int threads, ILogger logger)
    {
        _channel = channel;
        _server = server;
        _threads = threads;
        _logger = logger;
    }

    /// <summary>Chains refused as malformed, over every queue.</summary>
    public long Malformed => _queues.Sum(q => q?.Malformed ?? 0);

    /// <summary>Answers messages until the front-end disconnects (or breaks the protocol, which is logged).</summary>
    public void Run()
    {
        try
        {
            while (_channel.TryReceive(out var header, out var payload, out var fds))
            {
                Handle(header, payload, fds);
            }

            LogDisconnected();
        }
        catch (Exception e) when (e is VhostUserException or IOException)
        {
            LogProtocolError(e.Message);
        }
    }

    private void Handle(in VhostUserHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        bool replied = false;
        ulong status = 0;
        int fdsTaken = 0;
        try
        {
            switch (header.Request)
            {
                case VhostUserRequest.GetFeatures:
                    _channel.Reply(header.Request, VhostUser.Offered);
                    replied = true;
                    break;
                case VhostUserRequest.SetFeatures:
                    _features = Read<ulong>(payload) & VhostUser.Offered;
                    foreach (var queue in _queues)
                    {
                        queue?.EventIndex = (_features & VhostUser.EventIndex) != 0;
                    }

                    break;
                case VhostUserRequest.GetProtocolFeatures:
                    _channel.Reply(header.Request, VhostUser.ProtocolOffered);
                    replied = true;
                    break;
                case VhostUserRequest.SetProtocolFeatures:
                    _protocolFeatures = Read<ulong>(payload) & VhostUser.ProtocolOffered;
                    break;
                case VhostUserRequest.GetQueueNum:
                    _channel.Reply(header.Request, (ulong)_queues.Length);
                    replied = true;
                    break;
                case VhostUserRequest.SetOwner:
                    break;
                case VhostUserRequest.ResetOwner:
                    StopAll();
                    break;
                case VhostUserRequest.SetMemTable:
                    fdsTaken = fds.Length;
                    SetMemoryTable(payload, fds);
                    break;
                case VhostUserRequest.SetVringNum:
                    var size = Read<VringState>(payload);
                    Queue(size.Index).SetSize(size.Num);
                    break;
                case VhostUserRequest.SetVringBase:
                    var next = Read<VringState>(payload);
                    Queue(next.Index).SetBase(next.Num);
                    break;
                case VhostUserRequest.SetVringAddr:
                    var addresses = Read<VringAddress>(payload);
                    Queue(addresses.Index).SetAddresses(addresses);
                    break;
                case VhostUserRequest.GetVringBase:
                    var index = Read<VringState>(payload).Index;
                    _channel.Reply(header.Request, new VringState { Index = index, Num = Queue(index).StopRing() });
                    replied = true;
                    break;
                case VhostUserRequest.SetVringKick or VhostUserRequest.SetVringCall or VhostUserRequest.SetVringErr:
                    fdsTaken = SetRingFd(header.Request, Read<ulong>(payload), fds) ? 1 : 0;
                    break;
                case VhostUserRequest.SetVringEnable:
                    var state = Read<VringState>(payload);
                    Queue(state.Index).SetEnabled(state.Num != 0);
                    break;
                default:
                    LogUnsupported((uint)header.Request);
                    status = 1;
                    break;
            }
        }
        catch (VhostUserException e)
        {
            LogRefused((uint)header.Request, e.Message);
            status = 1;
        }
        catch (Exception e) when (e is not IOException)
        {
            // A bug must not take the device down: the request fails, and the front-end hears of it.
            LogCrashed((uint)header.Request, e);
            status = 1;
        }
        finally
        {
            for (int i = fdsTaken; i < fds.Length; i++)
            {
                Libc.Close(fds[i]);
            }
        }

        // REPLY_ACK: a request that asked for a reply and had none gets its status.
        if (!replied && (header.Flags & VhostUser.NeedReplyFlag) != 0 && (_protocolFeatures & VhostUser.ProtocolReplyAck) != 0)
        {
            _channel.Reply(header.Request, status);
        }
    }

    private void SetMemoryTable(ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        GuestMemory memory;
        try
        {
            uint count = Read<uint>(payload);
            int size = Marshal.SizeOf<MemoryRegionMessage>();
            if (count > VhostUser.MaxRegions || payload.Length < 8 + (count * size))
            {
                throw new VhostUserException($"a memory table of {count} regions in {payload.Length} bytes");
            }

            memory = GuestMemory.Map(MemoryMarshal.Cast<byte, MemoryRegionMessage>(payload.Slice(8, (int)count * size)), fds);
        }
        finally
        {
            foreach (var fd in fds)
            {
                Libc.Close(fd);
            }
        }

        var old = _memory;
        _memory = memory;
        foreach (var queue in _queues)
        {
            queue?.SetMemory(memory);
        }

        // Chains still in flight hold the old table; the last of them unmaps it.
        old.Release();
        LogMemoryTable(memory.RegionCount);
    }

    /// <summary>Gives the ring the first fd; true when it took it (the caller closes the rest).</summary>
    private bool SetRingFd(VhostUserRequest request, ulong value, ReadOnlySpan<int> fds)
    {
        var queue = Queue((uint)(value & 0xff));
        int fd = (value & VhostUser.NoFdFlag) != 0 || fds.IsEmpty ? -1 : fds[0];
        if (fd < 0 && request == VhostUserRequest.SetVringKick)
        {
            throw new VhostUserException("a ring to be polled without a kick fd is not offered");
        }

        switch (request)
        {
            case VhostUserRequest.SetVringKick:
                // Without protocol features a ring is enabled once it starts; with them, SET_VRING_ENABLE says.
                queue.SetKick(fd, enabled: (_features & VhostUser.ProtocolFeatures) == 0 || queue.Enabled);
                break;
            case VhostUserRequest.SetVringCall:
                queue.SetCall(fd);
                break;
            default:
                queue.SetErr(fd);
                break;
        }

        return fd >= 0;
    }

    private VirtioQueue Queue(uint index)
    {
        if (index >= _queues.Length)
        {
            throw new VhostUserException($"queue {index} is past the {_queues.Length} this device has");
        }

        if (_queues[index] is not { } queue)
        {
            queue = new VirtioQueue((int)index, _server, index == 0 ? 1 : _threads, _logger) { EventIndex = (_features & VhostUser.EventIndex) != 0 };
            queue.SetMemory(_memory);
            _queues[index] = queue;
        }

        return queue;
    }

    private static T Read<T>(ReadOnlySpan<byte> payload)
        where T : unmanaged =>
        payload.Length >= Marshal.SizeOf<T>() ? MemoryMarshal.Read<T>(payload) : throw new VhostUserException($"a payload of {payload.Length} bytes is too short for {typeof(T).Name}");

    private void StopAll()
    {
        foreach (var queue in _queues)
        {
            queue?.StopRing();
        }
    }

    /// <summary>Stops every worker, closes every fd and unmaps guest memory.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i]?.Dispose();
            _queues[i] = null;
        }

        _memory.Release();
        _memory = GuestMemory.Empty;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user front-end disconnected")]
    private partial void LogDisconnected();

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user front-end broke the protocol: {Reason}; the connection is closed")]
    private partial void LogProtocolError(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user request {Request} is not offered; refused")]
    private partial void LogUnsupported(uint request);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user request {Request} refused: {Reason}")]
    private partial void LogRefused(uint request, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user request {Request} threw; refused")]
    private partial void LogCrashed(uint request, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest memory mapped: {Regions} regions")]
    private partial void LogMemoryTable(int regions);
}
