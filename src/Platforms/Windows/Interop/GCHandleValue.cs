using System.Runtime.InteropServices;

namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>A GCHandle as the pointer-sized value a C struct keeps.</summary>
internal static class GCHandleValue
{
    public static nint Of(GCHandle handle) => GCHandle.ToIntPtr(handle);
}
