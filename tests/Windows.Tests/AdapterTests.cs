using System.Text;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Import;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Tests;
using CastoreFs.Platforms.Windows;
using CastoreFs.Platforms.Windows.Interop;

namespace CastoreFs.Windows.Tests;

/// <summary>The WinFsp adapter in this process, its callbacks called through the interface table it registers.</summary>
[TestClass]
public sealed unsafe class AdapterTests
{
    private const uint ReadAccess = 0x120089;
    private const uint DirectoryFile = 0x1;
    private const uint OpenReparsePoint = 0x200000;

    private static TempDirectory s_temp = null!;
    private static CastoreStore s_store = null!;
    private static CastoreFileSystem s_tree = null!;
    private static string s_root = null!;
    private static string s_other = null!;
    private static string s_disk = null!;

    [ClassInitialize]
    public static void Create(TestContext context)
    {
        _ = context;
        s_temp = new TempDirectory();
        s_store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        TestTree.CreateOther(s_temp.Combine("other"));
        var other = new PathImporter(s_store).ImportAsync(s_temp.Combine("other")).GetAwaiter().GetResult();
        s_other = other.StorePath.BaseName;
        s_disk = s_temp.Combine("tree");
        TestTree.Create(s_disk, other.StorePath.AbsolutePath);
        File.WriteAllText(Path.Combine(s_disk, "hello-copy.txt"), "hello\n");
        s_root = new PathImporter(s_store).ImportAsync(s_disk).GetAwaiter().GetResult().StorePath.BaseName;
        s_tree = CastoreFileSystem.OpenAsync(s_store, new FileSystemOptions { ListRoot = true }).GetAwaiter().GetResult();
    }

    [ClassCleanup]
    public static void Destroy()
    {
        s_tree.Dispose();
        s_temp.Dispose();
    }

    private static string P(string relative) => relative.Length == 0 ? $"\\{s_root}" : $"\\{s_root}\\{relative}";

    [TestMethod]
    public void Lookups_answer_as_winfsp_expects_for_each_way_a_path_can_miss()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName("\\", out uint attributes, out _));
        Assert.AreEqual(0x10u, attributes);
        Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName(P("hello.txt"), out attributes, out _));
        Assert.AreEqual(0x1u, attributes, "files are READONLY");
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetSecurityByName(P("nope"), out _, out _));
        Assert.AreEqual(NtStatus.ObjectPathNotFound, drive.GetSecurityByName(P("nope\\deeper"), out _, out _));
        Assert.AreEqual(NtStatus.NotADirectory, drive.GetSecurityByName(P("hello.txt\\x"), out _, out _));
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetSecurityByName(P("HELLO.TXT"), out _, out _), "names are case-sensitive");
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetSecurityByName("\\desktop.ini", out _, out _), "not a store path: no store call, no such name");
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetSecurityByName("\\" + s_root[..^1], out _, out _), "a root is its exact basename");

        Assert.AreEqual(NtStatus.ObjectNameInvalid, drive.GetSecurityByName(P("sub\\"), out _, out _));
        Assert.AreEqual(NtStatus.ObjectNameInvalid, drive.GetSecurityByName("sub", out _, out _));
        var longest = P("sub") + string.Concat(Enumerable.Repeat("\\x", 16000));
        Assert.AreEqual(NtStatus.ObjectPathNotFound, drive.GetSecurityByName(longest, out _, out _), "a path of 16000 names is walked, not recursed into");
        Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName(P("sub\\deeper\\deepest\\file"), out _, out _));
        Assert.AreEqual(NtStatus.NotADirectory, drive.GetSecurityByName(P("sub\\deeper\\deepest\\file\\x\\y"), out _, out _), "through a file found in the cache");

        Assert.AreEqual(NtStatus.Reparse, drive.GetSecurityByName(P("link-to-dir\\one"), out uint index, out _));
        Assert.AreEqual((uint)P("link-to-dir").LastIndexOf('\\') + 1, index, "the index is where the link's component starts");
        Assert.AreEqual(NtStatus.Reparse, drive.GetSecurityByName(P("link-to-dir\\x\\y"), out index, out _));
        Assert.AreEqual((uint)P("link-to-dir").LastIndexOf('\\') + 1, index);
        Assert.AreEqual(NtStatus.Reparse, drive.GetSecurityByName(P("link-to-dir\\x"), out index, out _), "again, from the cache");
        Assert.AreEqual((uint)P("link-to-dir").LastIndexOf('\\') + 1, index);
    }

    [TestMethod]
    public void Reads_stop_at_the_end_of_the_file_and_past_it_say_so()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var big = File.ReadAllBytes(Path.Combine(s_disk, "big.bin"));
        var context = drive.OpenOrFail(P("big.bin"));
        Assert.AreEqual(NtStatus.Success, drive.Read(context, 0, 4096, out var data));
        CollectionAssert.AreEqual(big[..4096], data);
        Assert.AreEqual(NtStatus.Success, drive.Read(context, (ulong)big.Length - 1, 100, out data));
        CollectionAssert.AreEqual(big[^1..], data, "the last byte, and no more");
        Assert.AreEqual(NtStatus.Success, drive.Read(context, (1 << 20) - 5, 7, out data));
        CollectionAssert.AreEqual(big[((1 << 20) - 5)..((1 << 20) + 2)], data, "across the 1 MiB boundary");
        Assert.AreEqual(NtStatus.EndOfFile, drive.Read(context, (ulong)big.Length, 10, out data));
        Assert.AreEqual(0, data.Length);
        Assert.AreEqual(NtStatus.EndOfFile, drive.Read(context, ulong.MaxValue, 10, out _));
        Assert.AreEqual(NtStatus.Success, drive.Read(context, 0, (uint)big.Length + 4096, out data));
        CollectionAssert.AreEqual(big, data, "one read of more than the file gives the whole file");
        drive.Close(context);

        context = drive.OpenOrFail(P("empty"));
        Assert.AreEqual(NtStatus.EndOfFile, drive.Read(context, 0, 10, out _));
        drive.Close(context);

        context = drive.OpenOrFail(P("sub"), DirectoryFile);
        Assert.AreEqual(NtStatus.FileIsADirectory, drive.Read(context, 0, 10, out _));
        drive.Close(context);
    }

    [TestMethod]
    public void Opens_check_what_is_asked_for()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        Assert.AreEqual(NtStatus.NotADirectory, drive.Open(P("hello.txt"), DirectoryFile, ReadAccess, out _, out _));
        Assert.AreEqual(NtStatus.FileIsADirectory, drive.Open(P("sub"), 0x40, ReadAccess, out _, out _));
        Assert.AreEqual(NtStatus.ObjectPathNotFound, drive.Open(P("link-to-dir\\one"), 0, ReadAccess, out _, out _), "a link in the middle is the DLL's to resolve");
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.Open(P("missing"), 0, ReadAccess, out _, out _));
        Assert.AreEqual(0, drive.Adapter.OpenHandles);
    }

    [TestMethod]
    public void Listings_in_small_buffers_continue_after_each_marker_to_the_same_names()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var expected = new List<string> { ".", ".." };
        expected.AddRange(Directory.GetFileSystemEntries(Path.Combine(s_disk, "sub")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);
        foreach (uint size in new uint[] { 128, 200, 1000, 65536 })
        {
            var entries = drive.List(P("sub"), size, out int calls);
            CollectionAssert.AreEqual(expected, entries.Select(e => e.Name).ToList(), $"buffer {size}");
            if (size == 128)
            {
                Assert.IsTrue(calls >= expected.Count, "a buffer that holds one entry takes a call per entry");
            }
        }

        var context = drive.OpenOrFail(P("sub"), DirectoryFile);
        var after = new List<(string Name, FspFileInfo Info)>();
        Assert.AreEqual(NtStatus.Success, drive.ReadDirectory(context, "many-075", 65536, after, out bool end));
        Assert.IsTrue(end);
        Assert.AreEqual("many-076", after[0].Name, "strictly after the marker");
        after.Clear();
        Assert.AreEqual(NtStatus.Success, drive.ReadDirectory(context, "many-0755", 65536, after, out _));
        Assert.AreEqual("many-076", after[0].Name, "a marker that is no entry continues where it would sort");
        after.Clear();
        Assert.AreEqual(NtStatus.Success, drive.ReadDirectory(context, ".", 65536, after, out _));
        Assert.AreEqual("..", after[0].Name);
        drive.Close(context);

        var root = drive.List("\\", 4096, out _).Select(e => e.Name).ToList();
        CollectionAssert.AreEqual(new[] { s_other, s_root }.Order(StringComparer.Ordinal).ToList(), root, "the root lists store paths, without . and ..");
        Assert.AreEqual(0, drive.Adapter.OpenHandles);
    }

    [TestMethod]
    public void Names_windows_cannot_hold_are_listed_mapped_and_opened_by_that_name()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var names = drive.List(P(string.Empty), 65536, out _).Select(e => e.Name).ToHashSet();
        foreach (var odd in TestTree.OddNames)
        {
            var chars = new char[255];
            var mapped = new string(chars, 0, WindowsNames.Map(Encoding.UTF8.GetBytes(odd), chars));
            Assert.AreNotEqual(odd, mapped);
            Assert.IsTrue(names.Contains(mapped), $"{odd} is listed as {mapped}");
            var context = drive.OpenOrFail(P(mapped));
            Assert.AreEqual(NtStatus.Success, drive.Read(context, 0, 100, out var data));
            Assert.AreEqual(odd, Encoding.UTF8.GetString(data));
            drive.Close(context);
        }

        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetSecurityByName(P("h\uF065llo.txt"), out _, out _), "an escaped letter is no other spelling");
    }

    [TestMethod]
    public void An_exact_name_is_answered_without_a_listing()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var listed = drive.List(P(string.Empty), 65536, out _).ToDictionary(e => e.Name, e => e.Info);
        var context = drive.OpenOrFail(P(string.Empty), DirectoryFile);
        foreach (var name in new[] { "hello.txt", "sub", "link-to-dir", "a\uF03Ab", "loop-a" })
        {
            Assert.AreEqual(NtStatus.Success, drive.GetDirInfoByName(context, name, out var back, out var info), name);
            Assert.AreEqual(name, back);
            Assert.AreEqual(listed[name], info, $"{name}: the same entry as the listing's");
        }

        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetDirInfoByName(context, "Hello.txt", out _, out _));
        Assert.AreEqual(NtStatus.ObjectNameNotFound, drive.GetDirInfoByName(context, "nope", out _, out _));
        drive.Close(context);
    }

    [TestMethod]
    public void Symlinks_are_reparse_points_marked_by_what_they_end_at()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        (string Link, uint Attributes)[] links =
        [
            ("link-to-file", 0x401), ("link-to-dir", 0x410), ("sub\\up-link", 0x401), ("absolute-link", 0x401), ("absolute-dir-link", 0x410),
            ("dangling", 0x401), ("loop-a", 0x401), ("chain-1", 0x410), ("chain-2", 0x410),
        ];
        foreach (var (link, attributes) in links)
        {
            Assert.AreEqual(NtStatus.Success, drive.Open(P(link), OpenReparsePoint, ReadAccess, out var context, out var info), link);
            Assert.AreEqual(attributes, info.FileAttributes, link);
            Assert.AreEqual(0xA000000Cu, info.ReparseTag, link);
            drive.Close(context);
        }

        (string Link, string Target)[] targets =
        [
            ("link-to-file", "hello.txt"), ("sub\\up-link", "..\\hello.txt"), ("absolute-link", $"\\{s_other}\\inside"), ("chain-2", "chain-1\\deepest"),
        ];
        foreach (var (link, target) in targets)
        {
            var context = drive.OpenOrFail(P(link), OpenReparsePoint);
            int bytes = target.Length * 2;
            Assert.AreEqual(NtStatus.BufferTooSmall, drive.GetReparsePoint(context, 8, out _, out var needed));
            Assert.AreEqual((nuint)(20 + bytes), needed);
            Assert.AreEqual(NtStatus.Success, drive.GetReparsePoint(context, 4096, out var data, out _));
            Assert.AreEqual(20 + bytes, data.Length);
            Assert.AreEqual(0xA000000Cu, BitConverter.ToUInt32(data, 0));
            Assert.AreEqual(12 + bytes, BitConverter.ToUInt16(data, 4));
            Assert.AreEqual(0, BitConverter.ToUInt16(data, 8), "substitute name at 0");
            Assert.AreEqual(bytes, BitConverter.ToUInt16(data, 10));
            Assert.AreEqual(0, BitConverter.ToUInt16(data, 12), "print name: the same bytes");
            Assert.AreEqual(bytes, BitConverter.ToUInt16(data, 14));
            Assert.AreEqual(1u, BitConverter.ToUInt32(data, 16), "relative: an absolute target is relative to the drive's root");
            Assert.AreEqual(target, Encoding.Unicode.GetString(data, 20, bytes));
            drive.Close(context);
        }

        var file = drive.OpenOrFail(P("hello.txt"));
        Assert.AreEqual(NtStatus.NotAReparsePoint, drive.GetReparsePoint(file, 4096, out _, out _));
        drive.Close(file);
    }

    [TestMethod]
    public void Attributes_times_and_file_ids_are_per_path()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var context = drive.OpenOrFail(P("hello.txt"));
        Assert.AreEqual(NtStatus.Success, drive.GetFileInfo(context, out var hello));
        drive.Close(context);
        Assert.AreEqual(0x1u, hello.FileAttributes);
        Assert.AreEqual(6ul, hello.FileSize);
        Assert.AreEqual(4096ul, hello.AllocationSize);
        Assert.AreEqual(0u, hello.HardLinks);
        ulong time = (ulong)DateTime.UnixEpoch.AddSeconds(1).ToFileTimeUtc();
        Assert.AreEqual(time, hello.CreationTime);
        Assert.AreEqual(time, hello.LastWriteTime);
        Assert.AreEqual(time, hello.ChangeTime);
        Assert.AreEqual(time, hello.LastAccessTime);

        var listing = drive.List(P(string.Empty), 65536, out _).ToDictionary(e => e.Name, e => e.Info);
        Assert.AreEqual(hello.IndexNumber, listing["hello.txt"].IndexNumber, "the listing's id is the open's");
        Assert.AreNotEqual(listing["hello.txt"].IndexNumber, listing["hello-copy.txt"].IndexNumber, "the same content at two paths is no hard link");
        var all = listing.Where(e => e.Key is not ("." or "..")).Select(e => e.Value.IndexNumber).ToList();
        Assert.AreEqual(all.Count, all.Distinct().Count());
        Assert.AreEqual(listing["."].IndexNumber, drive.List(P("sub"), 65536, out _).Single(e => e.Name == "..").Info.IndexNumber);
        var sub = drive.OpenOrFail(P("sub"), DirectoryFile);
        Assert.AreEqual(NtStatus.Success, drive.GetFileInfo(sub, out var subInfo));
        Assert.AreEqual(0x10u, subInfo.FileAttributes);
        Assert.AreEqual(listing["sub"].IndexNumber, subInfo.IndexNumber);
        drive.Close(sub);
    }

    [TestMethod]
    public void The_security_descriptor_lets_everyone_read_and_execute_and_nothing_more()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        Assert.AreEqual(NtStatus.Success, drive.GetSecurityByName(P("run.cmd"), out _, out var sd));
        Assert.AreEqual(80, sd.Length);
        Assert.AreEqual(1, sd[0], "revision");
        Assert.AreEqual(0x9004, BitConverter.ToUInt16(sd, 2), "self-relative, DACL present and protected");
        int dacl = BitConverter.ToInt32(sd, 16);
        Assert.AreEqual(1, BitConverter.ToUInt16(sd, dacl + 4), "one ACE");
        int ace = dacl + 8;
        Assert.AreEqual(0, sd[ace], "an allow ACE");
        Assert.AreEqual(0x001200A9u, BitConverter.ToUInt32(sd, ace + 4), "FILE_GENERIC_READ | FILE_EXECUTE");
        CollectionAssert.AreEqual(new byte[] { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 }, sd[(ace + 8)..(ace + 20)], "Everyone");
        var context = drive.OpenOrFail(P("run.cmd"));
        Assert.AreEqual(NtStatus.Success, drive.GetSecurity(context, out var byHandle));
        CollectionAssert.AreEqual(sd, byHandle);
        drive.Close(context);
    }

    [TestMethod]
    public void Every_call_that_would_write_is_refused()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        Assert.AreEqual(NtStatus.AccessDenied, drive.Open(P("hello.txt"), 0, 0x120116, out _, out _), "FILE_GENERIC_WRITE");
        Assert.AreEqual(NtStatus.AccessDenied, drive.Open(P("hello.txt"), 0, 0x10000, out _, out _), "DELETE");
        Assert.AreEqual(NtStatus.CannotDelete, drive.Open(P("hello.txt"), 0x1000, ReadAccess, out _, out _), "FILE_DELETE_ON_CLOSE");
        var context = drive.OpenOrFail(P("hello.txt"));
        byte* buffer = stackalloc byte[64];
        FspFileInfo info;
        VolumeInfo volume;
        uint written;
        fixed (char* name = P("hello.txt"))
        {
            nint n = (nint)name, c = context, b = (nint)buffer, i = (nint)(&info);
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, uint, uint, uint, nint, ulong, nint*, nint, int>)Drive.Slot(InterfaceSlot.Create))(drive.FileSystem, n, 0, 0x120116, 0, 0, 0, (nint*)b, i)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, uint, byte, ulong, nint, int>)Drive.Slot(InterfaceSlot.Overwrite))(drive.FileSystem, c, 0, 1, 0, i)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, ulong, uint, byte, byte, uint*, nint, int>)Drive.Slot(InterfaceSlot.Write))(drive.FileSystem, c, b, 0, 4, 0, 0, &written, i)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, uint, ulong, ulong, ulong, ulong, nint, int>)Drive.Slot(InterfaceSlot.SetBasicInfo))(drive.FileSystem, c, 0, 1, 1, 1, 1, i)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, ulong, byte, nint, int>)Drive.Slot(InterfaceSlot.SetFileSize))(drive.FileSystem, c, 0, 0, i)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, int>)Drive.Slot(InterfaceSlot.CanDelete))(drive.FileSystem, c, n)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, byte, int>)Drive.Slot(InterfaceSlot.Rename))(drive.FileSystem, c, n, n, 1)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, uint, nint, int>)Drive.Slot(InterfaceSlot.SetSecurity))(drive.FileSystem, c, 4, b)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nuint, int>)Drive.Slot(InterfaceSlot.SetReparsePoint))(drive.FileSystem, c, n, b, 20)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nuint, int>)Drive.Slot(InterfaceSlot.DeleteReparsePoint))(drive.FileSystem, c, n, b, 20)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, nint, byte, int>)Drive.Slot(InterfaceSlot.SetDelete))(drive.FileSystem, c, n, 1)));
            Assert.AreEqual(NtStatus.MediaWriteProtected, (((delegate* unmanaged[Cdecl]<nint, nint, VolumeInfo*, int>)Drive.Slot(InterfaceSlot.SetVolumeLabel))(drive.FileSystem, n, &volume)));
        }

        FspFileInfo flushed;
        Assert.AreEqual(NtStatus.Success, (((delegate* unmanaged[Cdecl]<nint, nint, FspFileInfo*, int>)Drive.Slot(InterfaceSlot.Flush))(drive.FileSystem, context, &flushed)));
        Assert.AreEqual(NtStatus.Success, drive.GetFileInfo(context, out var now));
        Assert.AreEqual(now, flushed, "a flush answers the file's unchanged info");
        Assert.AreEqual(NtStatus.Success, ((delegate* unmanaged[Cdecl]<nint, nint, FspFileInfo*, int>)Drive.Slot(InterfaceSlot.Flush))(drive.FileSystem, 0, null), "a volume flush");
        drive.Close(context);

        foreach (var slot in new[] { InterfaceSlot.Create, InterfaceSlot.Open, InterfaceSlot.Overwrite })
        {
            Assert.AreNotEqual(0, Drive.Slot(slot), "WinFsp opens nothing unless Create, Open and Overwrite exist");
        }

        for (int slot = (int)InterfaceSlot.DispatcherStopped + 1; slot < (int)InterfaceSlot.Count; slot++)
        {
            Assert.AreEqual(0, Drive.Slot((InterfaceSlot)slot), $"reserved slot {slot} is NULL");
        }
    }

    [TestMethod]
    public void The_volume_is_labelled_and_an_escaping_failure_is_a_status()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        VolumeInfo volume;
        Assert.AreEqual(NtStatus.Success, (((delegate* unmanaged[Cdecl]<nint, VolumeInfo*, int>)Drive.Slot(InterfaceSlot.GetVolumeInfo))(drive.FileSystem, &volume)));
        Assert.AreEqual("castorefs", new string(volume.VolumeLabel, 0, volume.VolumeLabelLength / 2));

        // An FSP_FILE_SYSTEM with no user context: the callback cannot find its file system, and says so.
        var empty = stackalloc byte[sizeof(FileSystemHeader)];
        new Span<byte>(empty, sizeof(FileSystemHeader)).Clear();
        var call = (delegate* unmanaged[Cdecl]<nint, VolumeInfo*, int>)Drive.Slot(InterfaceSlot.GetVolumeInfo);
        Assert.AreEqual(NtStatus.UnexpectedIoError, call((nint)empty, &volume));
    }

    [TestMethod]
    public void Eight_threads_at_once_read_and_list_what_one_would()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        var files = new[] { "hello.txt", "big.bin", "sub\\one", "sub\\deeper\\deepest\\file", "a\uF03Ab", "empty" };
        var disk = files.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(s_disk, f.Replace("\\", "/", StringComparison.Ordinal).Replace("\uF03A", ":", StringComparison.Ordinal))));
        var expectedListing = drive.List(P("sub"), 65536, out _).Select(e => e.Name).ToList();
        int failures = 0;
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (int i = 0; i < 300; i++)
            {
                var file = files[random.Next(files.Length)];
                var bytes = disk[file];
                if (drive.Open(P(file), 0, ReadAccess, out var context, out _) != NtStatus.Success)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                ulong offset = (ulong)random.Next(bytes.Length + 1);
                uint length = (uint)random.Next(1, 70000);
                int status = drive.Read(context, offset, length, out var data);
                int want = (int)Math.Min(length, (ulong)bytes.Length - offset);
                bool right = offset >= (ulong)bytes.Length ? status == NtStatus.EndOfFile : status == NtStatus.Success && data.AsSpan().SequenceEqual(bytes.AsSpan((int)offset, want));
                drive.Close(context);
                if (!right || (i % 25 == 0 && !drive.List(P("sub"), 512, out _).Select(e => e.Name).SequenceEqual(expectedListing)))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.AreEqual(0, failures);
        Assert.AreEqual(0, drive.Adapter.OpenHandles, "every handle was closed");
        Assert.AreEqual(0, s_tree.OpenHandles, "and released its blob in the tree");
    }

    [TestMethod]
    public void Handles_release_what_they_hold_at_close()
    {
        using var drive = new Drive(s_tree, new CapturingLogger());
        int before = s_tree.OpenHandles;
        var contexts = Enumerable.Range(0, 50).Select(_ => drive.OpenOrFail(P("big.bin"))).ToList();
        Assert.AreEqual(before, s_tree.OpenHandles, "an open that reads nothing opens no blob (Explorer looking at attributes)");
        foreach (var context in contexts)
        {
            Assert.AreEqual(NtStatus.Success, drive.Read(context, 0, 1, out _));
        }

        Assert.AreEqual(before + 50, s_tree.OpenHandles);
        contexts.ForEach(drive.Close);
        Assert.AreEqual(before, s_tree.OpenHandles);
        Assert.AreEqual(0, drive.Adapter.OpenHandles);
        Assert.AreEqual(NtStatus.InvalidHandle, drive.GetFileInfo(contexts[0], out _), "a closed handle finds nothing");
    }
}
