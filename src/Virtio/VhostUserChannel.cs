using System.Runtime.InteropServices;
using CastoreFs.Virtio.Interop;

namespace CastoreFs.Virtio;

/// <summary>
/// The vhost-user socket of one front-end: messages of a 12-byte header and a payload, with file
/// descriptors passed as SCM_RIGHTS on the header's bytes. Replies carry flags 0x5 (version 1, REPLY),
/// the only ones QEMU takes.
/// </summary>
internal sealed unsafe class VhostUserChannel(int socket) : IDisposable
{
    private readonly byte[] _payload = new byte[VhostUser.MaxPayload];
    private readonly int[] _fds = new int[VhostUser.MaxRegions];

    public int Socket => socket;

    /// <summary>
    /// The next message, its payload and the fds that came with it (the caller owns them); false when the
    /// front-end closed the connection.
    /// </summary>
    public bool TryReceive(out VhostUserHeader header, out ReadOnlySpan<byte> payload, out ReadOnlySpan<int> fds)
    {
        header = default;
        payload = default;
        fds = default;
        VhostUserHeader received;
        const int control = 256;
        byte* cmsg = stackalloc byte[control];
        var iov = new Libc.IoVec { Base = &received, Length = VhostUser.HeaderSize };
        var message = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = cmsg, ControlLength = control };
        nint n;
        do
        {
            n = Libc.RecvMsg(socket, &message, Libc.MSG_CMSG_CLOEXEC);
        }
        while (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        int fdCount = TakeFds(&message);
        if (n <= 0)
        {
            CloseFds(fdCount);
            return n == 0 ? false : throw new IOException($"vhost-user socket: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        }

        if (n < VhostUser.HeaderSize && !ReadExactly((byte*)&received + n, VhostUser.HeaderSize - (int)n))
        {
            CloseFds(fdCount);
            return false;
        }

        if ((received.Flags & 3) != VhostUser.Version || received.Size > VhostUser.MaxPayload)
        {
            CloseFds(fdCount);
            throw new VhostUserException($"message {(uint)received.Request} with flags 0x{received.Flags:x} and {received.Size} bytes is not vhost-user version 1");
        }

        fixed (byte* p = _payload)
        {
            if (!ReadExactly(p, (int)received.Size))
            {
                CloseFds(fdCount);
                return false;
            }
        }

        header = received;
        payload = _payload.AsSpan(0, (int)received.Size);
        fds = _fds.AsSpan(0, fdCount);
        return true;
    }

    public void Reply(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        Span<byte> message = stackalloc byte[VhostUser.HeaderSize + payload.Length];
        var header = new VhostUserHeader { Request = request, Flags = VhostUser.Version | VhostUser.ReplyFlag, Size = (uint)payload.Length };
        MemoryMarshal.Write(message, in header);
        payload.CopyTo(message[VhostUser.HeaderSize..]);
        fixed (byte* p = message)
        {
            int done = 0;
            while (done < message.Length)
            {
                nint n = Libc.Write(socket, p + done, (nuint)(message.Length - done));
                if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    throw new IOException($"vhost-user reply: {Libc.Describe(Marshal.GetLastPInvokeError())}");
                }

                done += (int)n;
            }
        }
    }

    public void Reply<T>(VhostUserRequest request, in T value)
        where T : unmanaged => Reply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>Makes a blocked receive return: the connection is being closed from this side.</summary>
    public void Shutdown() => Libc.Shutdown(socket, Libc.SHUT_RDWR);

    public void Dispose() => Libc.Close(socket);

    private int TakeFds(Libc.MsgHdr* message)
    {
        int count = 0;
        byte* at = (byte*)message->Control;
        byte* end = at + message->ControlLength;
        int headerSize = sizeof(Libc.CmsgHdr);
        while (at + headerSize <= end)
        {
            var cmsg = (Libc.CmsgHdr*)at;
            if (cmsg->Length < (nuint)headerSize || at + cmsg->Length > end)
            {
                break;
            }

            if (cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS)
            {
                int n = (int)((cmsg->Length - (nuint)headerSize) / sizeof(int));
                int* fd = (int*)(at + headerSize);
                for (int i = 0; i < n; i++)
                {
                    if (count < _fds.Length)
                    {
                        _fds[count++] = fd[i];
                    }
                    else
                    {
                        Libc.Close(fd[i]);
                    }
                }
            }

            at += (cmsg->Length + 7) & ~(nuint)7;
        }

        return count;
    }

    private void CloseFds(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Libc.Close(_fds[i]);
        }
    }

    private bool ReadExactly(byte* buffer, int length)
    {
        int done = 0;
        while (done < length)
        {
            nint n = Libc.Read(socket, buffer + done, (nuint)(length - done));
            if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
            {
                continue;
            }

            if (n <= 0)
            {
                return false;
            }

            done += (int)n;
        }

        return true;
    }
}
