using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Platforms.Windows;

/// <summary>
/// The FSP_FILE_SYSTEM_INTERFACE this file system registers: entry points the DLL calls from its
/// dispatcher threads. Each finds its <see cref="WinFspFileSystem"/> from the FSP_FILE_SYSTEM's user
/// context and lets no exception escape, since one would end the process: it becomes an NTSTATUS.
/// Every call that would change something is refused as the media being write-protected.
/// </summary>
internal static unsafe class WinFspCallbacks
{
    private static readonly Lazy<nint> Table = new(Build);

    /// <summary>The zeroed 64-slot table, filled once and kept for the process's life (the DLL keeps pointing at it).</summary>
    public static nint Interface => Table.Value;

    private static nint Build()
    {
        var slots = (nint*)NativeMemory.AllocZeroed((nuint)InterfaceSlot.Count, (nuint)sizeof(nint));
        slots[(int)InterfaceSlot.GetVolumeInfo] = (nint)(delegate* unmanaged[Cdecl]<nint, VolumeInfo*, int>)&GetVolumeInfo;
        slots[(int)InterfaceSlot.SetVolumeLabel] = (nint)(delegate* unmanaged[Cdecl]<nint, char*, VolumeInfo*, int>)&SetVolumeLabel;
        slots[(int)InterfaceSlot.GetSecurityByName] = (nint)(delegate* unmanaged[Cdecl]<nint, char*, uint*, void*, nuint*, int>)&GetSecurityByName;
        slots[(int)InterfaceSlot.Create] = (nint)(delegate* unmanaged[Cdecl]<nint, char*, uint, uint, uint, void*, ulong, nint*, FspFileInfo*, int>)&Create;
        slots[(int)InterfaceSlot.Open] = (nint)(delegate* unmanaged[Cdecl]<nint, char*, uint, uint, nint*, OpenFileInfo*, int>)&Open;
        slots[(int)InterfaceSlot.Overwrite] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, uint, byte, ulong, FspFileInfo*, int>)&Overwrite;
        slots[(int)InterfaceSlot.Close] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, void>)&Close;
        slots[(int)InterfaceSlot.Read] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, void*, ulong, uint, uint*, int>)&Read;
        slots[(int)InterfaceSlot.Write] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, void*, ulong, uint, byte, byte, uint*, FspFileInfo*, int>)&Write;
        slots[(int)InterfaceSlot.Flush] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, FspFileInfo*, int>)&Flush;
        slots[(int)InterfaceSlot.GetFileInfo] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, FspFileInfo*, int>)&GetFileInfo;
        slots[(int)InterfaceSlot.SetBasicInfo] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, uint, ulong, ulong, ulong, ulong, FspFileInfo*, int>)&SetBasicInfo;
        slots[(int)InterfaceSlot.SetFileSize] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, ulong, byte, FspFileInfo*, int>)&SetFileSize;
        slots[(int)InterfaceSlot.CanDelete] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, int>)&CanDelete;
        slots[(int)InterfaceSlot.Rename] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, char*, byte, int>)&Rename;
        slots[(int)InterfaceSlot.GetSecurity] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, void*, nuint*, int>)&GetSecurity;
        slots[(int)InterfaceSlot.SetSecurity] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, uint, void*, int>)&SetSecurity;
        slots[(int)InterfaceSlot.ReadDirectory] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, char*, void*, uint, uint*, int>)&ReadDirectory;
        slots[(int)InterfaceSlot.ResolveReparsePoints] = (nint)(delegate* unmanaged[Cdecl]<nint, char*, uint, byte, IoStatusBlock*, void*, nuint*, int>)&ResolveReparsePoints;
        slots[(int)InterfaceSlot.GetReparsePoint] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, void*, nuint*, int>)&GetReparsePoint;
        slots[(int)InterfaceSlot.SetReparsePoint] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, void*, nuint, int>)&SetReparsePoint;
        slots[(int)InterfaceSlot.DeleteReparsePoint] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, void*, nuint, int>)&DeleteReparsePoint;
        slots[(int)InterfaceSlot.GetDirInfoByName] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, DirInfo*, int>)&GetDirInfoByName;
        slots[(int)InterfaceSlot.SetDelete] = (nint)(delegate* unmanaged[Cdecl]<nint, nint, char*, byte, int>)&SetDelete;
        slots[(int)InterfaceSlot.DispatcherStopped] = (nint)(delegate* unmanaged[Cdecl]<nint, byte, void>)&DispatcherStopped;
        return (nint)slots;
    }

    /// <summary>The callback WinFsp's reparse helpers take (its GetReparsePointByName argument).</summary>
    public static delegate* unmanaged[Cdecl]<nint, nint, char*, byte, void*, nuint*, int> ReparsePointByName => &GetReparsePointByName;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetVolumeInfo(nint fs, VolumeInfo* info)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetVolumeInfo(info);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetVolumeInfo), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetSecurityByName(nint fs, char* fileName, uint* attributes, void* descriptor, nuint* descriptorSize)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetSecurityByName(fileName, attributes, descriptor, descriptorSize);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetSecurityByName), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(nint fs, char* fileName, uint createOptions, uint grantedAccess, nint* context, OpenFileInfo* info)
    {
        try
        {
            return WinFspFileSystem.From(fs).Open(fileName, createOptions, grantedAccess, context, info);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(Open), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Close(nint fs, nint context)
    {
        try
        {
            WinFspFileSystem.From(fs).Close(context);
        }
        catch (Exception e)
        {
            Failed(fs, nameof(Close), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(nint fs, nint context, void* buffer, ulong offset, uint length, uint* transferred)
    {
        try
        {
            return WinFspFileSystem.From(fs).Read(context, buffer, offset, length, transferred);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(Read), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Flush(nint fs, nint context, FspFileInfo* info)
    {
        try
        {
            return WinFspFileSystem.From(fs).Flush(context, info);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(Flush), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetFileInfo(nint fs, nint context, FspFileInfo* info)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetFileInfo(context, info);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetFileInfo), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetSecurity(nint fs, nint context, void* descriptor, nuint* descriptorSize)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetSecurity(context, descriptor, descriptorSize);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetSecurity), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ReadDirectory(nint fs, nint context, char* pattern, char* marker, void* buffer, uint length, uint* transferred)
    {
        try
        {
            // The pattern is ignored: without PassQueryDirectoryPattern the driver filters by it itself.
            return WinFspFileSystem.From(fs).ReadDirectory(context, marker, buffer, length, transferred);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(ReadDirectory), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ResolveReparsePoints(nint fs, char* fileName, uint reparsePointIndex, byte resolveLast, IoStatusBlock* ioStatus, void* buffer, nuint* size)
    {
        try
        {
            var self = WinFspFileSystem.From(fs);
            return self.Api.ResolveReparsePoints(fs, ReparsePointByName, 0, fileName, reparsePointIndex, resolveLast, ioStatus, buffer, size);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(ResolveReparsePoints), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetReparsePointByName(nint fs, nint context, char* fileName, byte isDirectory, void* buffer, nuint* size)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetReparsePointByName(fileName, buffer, size);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetReparsePointByName), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetReparsePoint(nint fs, nint context, char* fileName, void* buffer, nuint* size)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetReparsePoint(context, buffer, size);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetReparsePoint), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetDirInfoByName(nint fs, nint context, char* fileName, DirInfo* dirInfo)
    {
        try
        {
            return WinFspFileSystem.From(fs).GetDirInfoByName(context, fileName, dirInfo);
        }
        catch (Exception e)
        {
            return Failed(fs, nameof(GetDirInfoByName), e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void DispatcherStopped(nint fs, byte normally)
    {
        try
        {
            WinFspFileSystem.From(fs).DispatcherStopped(normally != 0);
        }
        catch (Exception e)
        {
            Failed(fs, nameof(DispatcherStopped), e);
        }
    }

    // WinFsp's DLL refuses opens for writing unless Create and Overwrite exist; they exist to say no.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Create(nint fs, char* fileName, uint createOptions, uint grantedAccess, uint attributes, void* descriptor, ulong allocationSize, nint* context, FspFileInfo* info) =>
        NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Overwrite(nint fs, nint context, uint attributes, byte replace, ulong allocationSize, FspFileInfo* info) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetVolumeLabel(nint fs, char* label, VolumeInfo* info) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(nint fs, nint context, void* buffer, ulong offset, uint length, byte toEnd, byte constrained, uint* transferred, FspFileInfo* info) =>
        NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetBasicInfo(nint fs, nint context, uint attributes, ulong creation, ulong access, ulong write, ulong change, FspFileInfo* info) =>
        NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetFileSize(nint fs, nint context, ulong size, byte allocation, FspFileInfo* info) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CanDelete(nint fs, nint context, char* fileName) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Rename(nint fs, nint context, char* fileName, char* newName, byte replace) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetSecurity(nint fs, nint context, uint information, void* descriptor) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetReparsePoint(nint fs, nint context, char* fileName, void* buffer, nuint size) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DeleteReparsePoint(nint fs, nint context, char* fileName, void* buffer, nuint size) => NtStatus.MediaWriteProtected;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetDelete(nint fs, nint context, char* fileName, byte delete) => NtStatus.MediaWriteProtected;

    private static int Failed(nint fs, string call, Exception e)
    {
        try
        {
            WinFspFileSystem.From(fs).LogUnexpected(call, e);
        }
        catch (Exception)
        {
            // No file system to log to: the status alone must do.
        }

        return NtStatus.UnexpectedIoError;
    }
}
