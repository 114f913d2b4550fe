using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CastoreFs.Core.Filesystem;
using CastoreFs.Platforms.Windows;
using CastoreFs.Platforms.Windows.Interop;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Windows.Tests;

/// <summary>
/// The adapter as WinFsp's DLL holds it, in this process: an FSP_FILE_SYSTEM with our user context and
/// interface table, and every call made through the table's function pointers with native buffers.
/// The DLL's own helper (FspFileSystemAddDirInfo) is a managed stand-in here; the wine tests use a C one.
/// </summary>
internal sealed unsafe class Drive : IDisposable
{
    private readonly nint _fileSystem;

    public Drive(CastoreFileSystem tree, ILogger logger)
    {
        Adapter = new WinFspFileSystem(tree, new WinFspApi { AddDirInfo = &AddDirInfo }, logger);
        _fileSystem = (nint)NativeMemory.AllocZeroed((nuint)sizeof(FileSystemHeader));
        Header->UserContext = GCHandle.ToIntPtr(Adapter.Self);
        Header->Interface = WinFspCallbacks.Interface;
    }

    public WinFspFileSystem Adapter { get; }

    private FileSystemHeader* Header => (FileSystemHeader*)_fileSystem;

    public static nint Slot(InterfaceSlot slot) => ((nint*)WinFspCallbacks.Interface)[(int)slot];

    public int GetSecurityByName(string path, out uint attributes, out byte[] descriptor)
    {
        uint found = 0;
        nuint size = 0;
        var call = (delegate* unmanaged[Cdecl]<nint, char*, uint*, void*, nuint*, int>)Slot(InterfaceSlot.GetSecurityByName);
        int status;
        fixed (char* name = path)
        {
            // As the DLL does: a buffer too small first, then one of the size asked for.
            byte small;
            status = call(_fileSystem, name, &found, &small, &size);
            descriptor = new byte[(int)size];
            if (status == NtStatus.BufferOverflow)
            {
                fixed (byte* sd = descriptor)
                {
                    status = call(_fileSystem, name, &found, sd, &size);
                }
            }
        }

        attributes = found;
        return status;
    }

    public int Open(string path, uint options, uint access, out nint context, out FspFileInfo info)
    {
        OpenFileInfo openInfo = default;
        nint opened = 0;
        int status;
        fixed (char* name = path)
        {
            status = ((delegate* unmanaged[Cdecl]<nint, char*, uint, uint, nint*, OpenFileInfo*, int>)Slot(InterfaceSlot.Open))(_fileSystem, name, options, access, &opened, &openInfo);
        }

        context = opened;
        info = openInfo.FileInfo;
        return status;
    }

    public nint OpenOrFail(string path, uint options = 0)
    {
        Assert.AreEqual(NtStatus.Success, Open(path, options, 0x120089, out var context, out _), path);
        return context;
    }

    public void Close(nint context) => ((delegate* unmanaged[Cdecl]<nint, nint, void>)Slot(InterfaceSlot.Close))(_fileSystem, context);

    public int Read(nint context, ulong offset, uint length, out byte[] data)
    {
        var buffer = new byte[length + 16];
        buffer.AsSpan().Fill(0xEE);
        uint got = 0;
        int status;
        fixed (byte* p = buffer)
        {
            status = ((delegate* unmanaged[Cdecl]<nint, nint, void*, ulong, uint, uint*, int>)Slot(InterfaceSlot.Read))(_fileSystem, context, p, offset, length, &got);
        }

        Assert.IsTrue(buffer.AsSpan((int)length).IndexOfAnyExcept((byte)0xEE) < 0, "nothing is written past the length asked for");
        data = buffer[..(int)got];
        return status;
    }

    public int GetFileInfo(nint context, out FspFileInfo info)
    {
        FspFileInfo found;
        int status = ((delegate* unmanaged[Cdecl]<nint, nint, FspFileInfo*, int>)Slot(InterfaceSlot.GetFileInfo))(_fileSystem, context, &found);
        info = found;
        return status;
    }

    /// <summary>One ReadDirectory call: the entries it returned and whether it ended the listing.</summary>
    public int ReadDirectory(nint context, string? marker, uint length, List<(string Name, FspFileInfo Info)> entries, out bool end)
    {
        var buffer = new byte[length];
        uint got = 0;
        int status;
        end = false;
        fixed (byte* p = buffer)
        fixed (char* m = marker)
        {
            status = ((delegate* unmanaged[Cdecl]<nint, nint, char*, char*, void*, uint, uint*, int>)Slot(InterfaceSlot.ReadDirectory))(_fileSystem, context, null, m, p, length, &got);
            for (uint at = 0; at + 2 <= got;)
            {
                var entry = (DirInfo*)(p + at);
                if (entry->Size == 0)
                {
                    end = true;
                    break;
                }

                entries.Add((new string((char*)(p + at + DirInfo.NameOffset), 0, (entry->Size - DirInfo.NameOffset) / 2), entry->FileInfo));
                at += (uint)((entry->Size + 7) & ~7);
            }
        }

        return status;
    }

    /// <summary>A whole listing in buffers of <paramref name="length"/> bytes, each call continued after the last name it got.</summary>
    public List<(string Name, FspFileInfo Info)> List(string path, uint length, out int calls)
    {
        var context = OpenOrFail(path, 0x1);
        var entries = new List<(string Name, FspFileInfo Info)>();
        calls = 0;
        bool end = false;
        while (!end)
        {
            int before = entries.Count;
            Assert.AreEqual(NtStatus.Success, ReadDirectory(context, before == 0 ? null : entries[^1].Name, length, entries, out end));
            Assert.IsTrue(end || entries.Count > before, "every call makes progress");
            calls++;
        }

        Close(context);
        return entries;
    }

    public int GetDirInfoByName(nint context, string name, out string returnedName, out FspFileInfo info)
    {
        var buffer = new byte[DirInfo.NameOffset + (DirInfo.MaxNameChars * 2)];
        int status;
        fixed (byte* p = buffer)
        fixed (char* n = name)
        {
            status = ((delegate* unmanaged[Cdecl]<nint, nint, char*, DirInfo*, int>)Slot(InterfaceSlot.GetDirInfoByName))(_fileSystem, context, n, (DirInfo*)p);
            var entry = (DirInfo*)p;
            returnedName = status == 0 ? new string((char*)(p + DirInfo.NameOffset), 0, (entry->Size - DirInfo.NameOffset) / 2) : string.Empty;
            info = entry->FileInfo;
        }

        return status;
    }

    public int GetReparsePoint(nint context, nuint size, out byte[] data, out nuint needed)
    {
        var buffer = new byte[(int)size];
        nuint given = size;
        int status;
        fixed (byte* p = buffer)
        {
            status = ((delegate* unmanaged[Cdecl]<nint, nint, char*, void*, nuint*, int>)Slot(InterfaceSlot.GetReparsePoint))(_fileSystem, context, null, p, &given);
        }

        needed = given;
        data = status == 0 ? buffer[..(int)given] : [];
        return status;
    }

    public int GetSecurity(nint context, out byte[] descriptor)
    {
        nuint size = 0;
        var call = (delegate* unmanaged[Cdecl]<nint, nint, void*, nuint*, int>)Slot(InterfaceSlot.GetSecurity);
        byte small;
        int status = call(_fileSystem, context, &small, &size);
        descriptor = new byte[(int)size];
        fixed (byte* sd = descriptor)
        {
            status = status == NtStatus.BufferOverflow ? call(_fileSystem, context, sd, &size) : status;
        }

        return status;
    }

    /// <summary>The FSP_FILE_SYSTEM the DLL would pass to every call.</summary>
    public nint FileSystem => _fileSystem;

    public void Dispose()
    {
        Adapter.Release();
        NativeMemory.Free((void*)_fileSystem);
    }

    /// <summary>FspFileSystemAddDirInfo as WinFsp's DLL defines it: entries in 8-byte slots, NULL the 2-byte end.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte AddDirInfo(DirInfo* info, void* buffer, uint length, uint* transferred)
    {
        uint size = info == null ? 2u : info->Size;
        uint slot = info == null ? 2u : (size + 7) & ~7u;
        if (*transferred + slot > length)
        {
            return 0;
        }

        if (info == null)
        {
            *(ushort*)((byte*)buffer + *transferred) = 0;
        }
        else
        {
            Buffer.MemoryCopy(info, (byte*)buffer + *transferred, size, size);
        }

        *transferred += slot;
        return 1;
    }
}
