using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>IO_STATUS_BLOCK (wdm.h) on 64-bit Windows.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoStatusBlock
{
    public nint Status;
    public nuint Information;
}
