using CastoreFs.Core.IO;
using CastoreFs.Virtio.Interop;

namespace CastoreFs.Virtio;

/// <summary>
/// The guest's RAM as the front-end shared it: each region mapped whole from its fd. Descriptors name
/// guest-physical addresses, ring addresses name the front-end's own virtual addresses; both translate
/// here, and only a buffer that lies inside one region translates. Counted: a table replaced while
/// queues run stays mapped until the last chain that uses it is done.
/// </summary>
internal sealed class GuestMemory
{
    private readonly Region[] _regions;
    private HolderCount _holders = new();

    private GuestMemory(Region[] regions) => _regions = regions;

    public static GuestMemory Empty { get; } = new([]);

    public int RegionCount => _regions.Length;

    /// <summary>Maps every region (closing the fds); on any failure nothing stays mapped.</summary>
    public static unsafe GuestMemory Map(ReadOnlySpan<MemoryRegionMessage> regions, ReadOnlySpan<int> fds)
    {
        if (regions.Length != fds.Length)
        {
            throw new VhostUserException($"{regions.Length} memory regions came with {fds.Length} fds");
        }

        var mapped = new List<Region>();
        try
        {
            for (int i = 0; i < regions.Length; i++)
            {
                var r = regions[i];
                if (r.Size == 0 || r.GuestAddress + r.Size < r.GuestAddress || r.UserAddress + r.Size < r.UserAddress
                    || r.MmapOffset + r.Size < r.MmapOffset || r.Size + r.MmapOffset > (ulong)nint.MaxValue)
                {
                    throw new VhostUserException($"memory region {i} is malformed (size 0x{r.Size:x}, offset 0x{r.MmapOffset:x})");
                }

                // The whole file from offset 0: mmap offsets need page alignment, region offsets need not have it.
                nuint length = (nuint)(r.Size + r.MmapOffset);
                nint address = Libc.Mmap(0, length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_NORESERVE, fds[i], 0);
                if (address == -1)
                {
                    throw new VhostUserException($"mapping memory region {i} (0x{r.Size:x} bytes) failed: {Libc.Describe(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
                }

                mapped.Add(new Region(r.GuestAddress, r.Size, r.UserAddress, address, length, address + (nint)r.MmapOffset));
            }

            return new GuestMemory([.. mapped]);
        }
        catch
        {
            foreach (var region in mapped)
            {
                Libc.Munmap(region.Mapping, region.MappingLength);
            }

            throw;
        }
    }

    /// <summary>The host address of guest-physical [<paramref name="address"/>, +<paramref name="length"/>), if one region holds all of it.</summary>
    public bool TryTranslate(ulong address, ulong length, out nint host)
    {
        foreach (var region in _regions)
        {
            // Written so that nothing overflows, whatever the guest put in address and length.
            if (address >= region.GuestAddress && address - region.GuestAddress < region.Size
                && length <= region.Size - (address - region.GuestAddress))
            {
                host = region.Local + (nint)(address - region.GuestAddress);
                return true;
            }
        }

        host = 0;
        return false;
    }

    /// <summary>The same for an address in the front-end's own address space (where SET_VRING_ADDR points).</summary>
    public bool TryTranslateUser(ulong address, ulong length, out nint host)
    {
        foreach (var region in _regions)
        {
            if (address >= region.UserAddress && address - region.UserAddress < region.Size
                && length <= region.Size - (address - region.UserAddress))
            {
                host = region.Local + (nint)(address - region.UserAddress);
                return true;
            }
        }

        host = 0;
        return false;
    }

    /// <summary>One more user; false once the table was released by all.</summary>
    /// <remarks>The empty table (before the first one arrives) maps nothing and is shared: it is never released.</remarks>
    public bool TryHold() => _regions.Length == 0 || _holders.TryHold();

    /// <summary>Ends one use; the last unmaps every region.</summary>
    public void Release()
    {
        if (_regions.Length != 0 && _holders.Release())
        {
            foreach (var region in _regions)
            {
                Libc.Munmap(region.Mapping, region.MappingLength);
            }
        }
    }

    private readonly record struct Region(ulong GuestAddress, ulong Size, ulong UserAddress, nint Mapping, nuint MappingLength, nint Local);
}

/// <summary>A front-end broke the protocol: the message is refused, or the connection is closed.</summary>
public sealed class VhostUserException(string message) : IOException(message);
