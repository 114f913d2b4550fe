namespace CastoreFs.Platforms.Windows.Interop;

/// <summary>
/// The exports of winfsp-x64.dll (winfsp.h) this file system calls, bound once. All are cdecl with plain
/// C names. <see cref="GetReparsePointByName"/> is the type of the callback the reparse helpers take.
/// </summary>
internal unsafe readonly struct WinFspApi
{
    public delegate* unmanaged[Cdecl]<uint*, int> Version { get; init; }

    public delegate* unmanaged[Cdecl]<char*, VolumeParams*, nint, nint*, int> FileSystemCreate { get; init; }

    public delegate* unmanaged[Cdecl]<nint, char*, int> SetMountPoint { get; init; }

    public delegate* unmanaged[Cdecl]<nint, uint, int> StartDispatcher { get; init; }

    public delegate* unmanaged[Cdecl]<nint, void> StopDispatcher { get; init; }

    public delegate* unmanaged[Cdecl]<nint, void> FileSystemDelete { get; init; }

    public delegate* unmanaged[Cdecl]<DirInfo*, void*, uint, uint*, byte> AddDirInfo { get; init; }

    public delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, nint, char*, byte, void*, nuint*, int>, nint, char*, uint, byte, IoStatusBlock*, void*, nuint*, int> ResolveReparsePoints { get; init; }

    /// <summary>Export names in the order of the properties above.</summary>
    public static readonly string[] ExportNames =
    [
        "FspVersion", "FspFileSystemCreate", "FspFileSystemSetMountPoint", "FspFileSystemStartDispatcher",
        "FspFileSystemStopDispatcher", "FspFileSystemDelete", "FspFileSystemAddDirInfo", "FspFileSystemResolveReparsePoints",
    ];

    /// <summary>Binds every export from a loaded library; a missing one throws, naming it.</summary>
    public static WinFspApi Bind(Func<string, nint> export) => new()
    {
        Version = (delegate* unmanaged[Cdecl]<uint*, int>)export(ExportNames[0]),
        FileSystemCreate = (delegate* unmanaged[Cdecl]<char*, VolumeParams*, nint, nint*, int>)export(ExportNames[1]),
        SetMountPoint = (delegate* unmanaged[Cdecl]<nint, char*, int>)export(ExportNames[2]),
        StartDispatcher = (delegate* unmanaged[Cdecl]<nint, uint, int>)export(ExportNames[3]),
        StopDispatcher = (delegate* unmanaged[Cdecl]<nint, void>)export(ExportNames[4]),
        FileSystemDelete = (delegate* unmanaged[Cdecl]<nint, void>)export(ExportNames[5]),
        AddDirInfo = (delegate* unmanaged[Cdecl]<DirInfo*, void*, uint, uint*, byte>)export(ExportNames[6]),
        ResolveReparsePoints = (delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, nint, char*, byte, void*, nuint*, int>, nint, char*, uint, byte, IoStatusBlock*, void*, nuint*, int>)export(ExportNames[7]),
    };
}
