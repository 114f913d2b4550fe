using System.Runtime.CompilerServices;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.IO;

namespace CastoreFs.Core.Fuse;

public sealed record FuseServerOptions
{
    /// <summary>The largest WRITE the kernel may send; it also sets the least request buffer.</summary>
    public const int MaxWrite = 1024 * 1024;

    /// <summary>The largest READ (max_pages 256): the most payload a reply carries.</summary>
    public const int MaxRead = 256 * 4096;

    /// <summary>The out header every reply starts with.</summary>
    public static readonly int OutHeaderSize = Unsafe.SizeOf<FuseOutHeader>();

    /// <summary>What a transport's read buffer must hold: the kernel refuses reads into less (fs/fuse/dev.c).</summary>
    public const int RequestBufferSize = MaxWrite + 4096;

    /// <summary>What a transport's reply buffer must hold: a header and the largest payload.</summary>
    public const int ReplyBufferSize = MaxRead + 4096;

    /// <summary>
    /// A pinned reply buffer (preadv fills it by address) whose payload, after the out header, starts on a
    /// page boundary: a page of file data is copied into one page of it, not across two.
    /// </summary>
    public static Memory<byte> AllocateReplyBuffer() =>
        UnbufferedIo.AllocatePinned(ReplyBufferSize, alignedAt: OutHeaderSize);

    /// <summary>
    /// The pages a READ may ask for (max_pages at INIT), at most <see cref="MaxRead"/>'s 256: a transport
    /// that splices replies through a pipe of 256 buffers asks for 255, so that a reply and its header fit.
    /// </summary>
    public int MaxReadPages
    {
        get;
        init => field = value is >= 1 and <= MaxRead / 4096 ? value : throw new ArgumentOutOfRangeException(nameof(MaxReadPages), value, "1 to 256 pages");
    } = MaxRead / 4096;

    /// <summary>Files the kernel can read directly (FUSE passthrough); null serves every read.</summary>
    public IFuseBackingFiles? BackingFiles { get; init; }
}
