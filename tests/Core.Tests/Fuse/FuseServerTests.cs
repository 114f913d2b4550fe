using System.Text;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Fuse;
using CastoreFs.Core.Fuse.Protocol;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using Microsoft.Win32.SafeHandles;
using Snix.Castore.V1;
using Snix.Store.V1;

namespace CastoreFs.Core.Tests.Fuse;

/// <summary>The FUSE protocol server fed raw request bytes, as a hostile or unusual kernel (or guest) could send them.</summary>
[TestClass]
public sealed class FuseServerTests
{
    private const string Complicated = "33333333333333333333333333333333-test";

    /// <summary>What kernel 6.18 offered in INIT (measured, protocol 7.45).</summary>
    private static readonly FuseInitIn KernelInit = new() { Major = 7, Minor = 45, MaxReadahead = 131072, Flags = 0x73fffffb, Flags2 = 0x5fd };

    [TestMethod]
    public void Init_asks_for_what_a_read_only_store_needs_and_no_passthrough_without_backing_files()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        var (error, payload) = wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit));
        Assert.AreEqual(0, error);
        Assert.HasCount(64, payload);
        var init = FuseWire.Read<FuseInitOut>(payload);
        Assert.AreEqual((7u, 45u), (init.Major, init.Minor));
        Assert.AreEqual(256, init.MaxPages);
        Assert.AreEqual(1u << 20, init.MaxWrite);
        Assert.AreEqual(131072u, init.MaxReadahead);
        var granted = (FuseCapabilities)init.Flags;
        foreach (var wanted in new[] { FuseCapabilities.AsyncRead, FuseCapabilities.ParallelDirops, FuseCapabilities.MaxPages, FuseCapabilities.CacheSymlinks, FuseCapabilities.DoReaddirplus, FuseCapabilities.ReaddirplusAuto, FuseCapabilities.InitExt })
        {
            Assert.IsTrue(granted.HasFlag(wanted), wanted.ToString());
        }

        Assert.AreEqual(0u, init.Flags2 & (1 << 5), "no passthrough without a way to register backing files");
        Assert.AreEqual(0u, init.MaxStackDepth);
        Assert.IsTrue(server.Initialized.IsCompletedSuccessfully);
    }

    [TestMethod]
    public void Init_with_backing_files_negotiates_passthrough_with_a_stack_depth()
    {
        var (server, _) = Start(new FuseServerOptions { BackingFiles = new NoBackingFiles() });
        var init = FuseWire.Read<FuseInitOut>(new FuseWire(server).CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit)).Payload);
        Assert.AreEqual(1u << 5, init.Flags2 & (1 << 5));
        Assert.AreEqual(1u, init.MaxStackDepth);
        Assert.IsTrue(server.Passthrough);

        // A 6.1 kernel (7.38) offers no passthrough: none is granted.
        var (old, _) = Start(new FuseServerOptions { BackingFiles = new NoBackingFiles() });
        var oldInit = FuseWire.Read<FuseInitOut>(new FuseWire(old).CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(new FuseInitIn { Major = 7, Minor = 38, Flags = 0x7bfffffb, Flags2 = 0xb })).Payload);
        Assert.AreEqual(38u, oldInit.Minor);
        Assert.AreEqual(0u, oldInit.Flags2 & (1 << 5));
        Assert.IsFalse(old.Passthrough);
    }

    [TestMethod]
    public void Init_from_a_newer_major_gets_our_major_only_and_an_older_one_is_refused()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        var newer = FuseWire.Read<FuseInitOut>(wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit with { Major = 8 })).Payload);
        Assert.AreEqual(7u, newer.Major);
        Assert.AreEqual(0u, newer.Flags);
        Assert.IsFalse(server.Initialized.IsCompleted, "the kernel sends INIT again");
        Assert.AreEqual(-(int)Errno.EPROTO, wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit with { Major = 6 })).Error);
    }

    [TestMethod]
    public void Malformed_requests_get_EINVAL_or_nothing_and_the_server_goes_on()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        wire.Send(new byte[10]);
        Assert.IsEmpty(wire.Replies, "too short for a header: nothing to answer");

        var lying = FuseWire.Request(FuseOpcode.Getattr, 1, 4, new byte[16]);
        lying[0] = 200;
        wire.Send(lying);
        Assert.AreEqual(-(int)Errno.EINVAL, BitConverter.ToInt32(wire.Replies[^1], 4), "a length that is not the request's");

        Assert.AreEqual(-(int)Errno.EINVAL, wire.CallExpectingReply(FuseOpcode.Read, 1, new byte[3]).Error, "a body too short for its struct");
        Assert.AreEqual(-(int)Errno.ENOSYS, wire.CallExpectingReply((FuseOpcode)4000, 1, []).Error);
        Assert.AreEqual(-(int)Errno.ENOSYS, wire.CallExpectingReply(FuseOpcode.Statx, 1, new byte[24]).Error);
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Getattr, 1, new byte[16]).Error, "still serving");
    }

    [TestMethod]
    public void Every_write_side_request_is_EROFS()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        foreach (var op in new[] { FuseOpcode.Setattr, FuseOpcode.Mkdir, FuseOpcode.Mknod, FuseOpcode.Unlink, FuseOpcode.Rmdir, FuseOpcode.Rename, FuseOpcode.Rename2, FuseOpcode.Link, FuseOpcode.Symlink, FuseOpcode.Write, FuseOpcode.Create, FuseOpcode.Setxattr, FuseOpcode.Removexattr, FuseOpcode.Fallocate, FuseOpcode.CopyFileRange, FuseOpcode.Tmpfile })
        {
            Assert.AreEqual(-(int)Errno.EROFS, wire.CallExpectingReply(op, 1, new byte[64]).Error, op.ToString());
        }

        Assert.AreEqual(-(int)Errno.EROFS, wire.CallExpectingReply(FuseOpcode.Access, 1, FuseWire.Bytes(new FuseAccessIn { Mask = 2 })).Error);
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Access, 1, FuseWire.Bytes(new FuseAccessIn { Mask = 4 })).Error);
    }

    [TestMethod]
    public void Readdirplus_continues_at_the_offset_and_counts_only_entries_it_returned()
    {
        var (server, fs) = Start();
        var wire = new FuseWire(server);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        int trackedAfterLookup = fs.TrackedInodes;

        // Room for one 160-byte record (".keep"), not two.
        var first = wire.CallExpectingReply(FuseOpcode.Readdirplus, dir, FuseWire.Bytes(new FuseReadIn { Offset = 0, Size = 200 }));
        var entries = FuseWire.Dirents(first.Payload, plus: true);
        Assert.AreEqual(".keep", entries.Single().Name);
        Assert.AreEqual(1ul, entries[0].Offset);
        Assert.AreEqual(trackedAfterLookup + 1, fs.TrackedInodes);

        var rest = FuseWire.Dirents(wire.CallExpectingReply(FuseOpcode.Readdirplus, dir, FuseWire.Bytes(new FuseReadIn { Offset = 1, Size = 4096 })).Payload, plus: true);
        CollectionAssert.AreEqual(new[] { "aa", "keep" }, rest.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new ulong[] { 2, 3 }, rest.Select(e => e.Offset).ToArray());
        Assert.IsEmpty(wire.CallExpectingReply(FuseOpcode.Readdirplus, dir, FuseWire.Bytes(new FuseReadIn { Offset = 3, Size = 4096 })).Payload, "end of directory");

        // Plain readdir shows the same numbers.
        var plain = FuseWire.Dirents(wire.CallExpectingReply(FuseOpcode.Readdir, dir, FuseWire.Bytes(new FuseReadIn { Size = 4096 })).Payload, plus: false);
        CollectionAssert.AreEqual(entries.Concat(rest).Select(e => e.Ino).ToArray(), plain.Select(e => e.Ino).ToArray());
    }

    [TestMethod]
    public void Forget_and_batch_forget_take_no_reply_and_free_nodes_whose_number_is_never_reused()
    {
        var (server, fs) = Start();
        var wire = new FuseWire(server);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        var keep = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name(".keep")).Payload).NodeId;
        wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name(".keep"));
        Assert.AreEqual(2, fs.TrackedInodes);

        Assert.IsNull(wire.Call(FuseOpcode.Forget, keep, FuseWire.Bytes(new FuseForgetIn { Nlookup = 1 })));
        Assert.AreEqual(2, fs.TrackedInodes, "one of two lookups forgotten");

        var batch = new byte[8 + 32];
        BitConverter.TryWriteBytes(batch, 2u);
        FuseWire.Bytes(new FuseForgetOne { NodeId = keep, Nlookup = 1 }).CopyTo(batch, 8);
        FuseWire.Bytes(new FuseForgetOne { NodeId = dir, Nlookup = 1 }).CopyTo(batch, 24);
        Assert.IsNull(wire.Call(FuseOpcode.BatchForget, 0, batch));
        Assert.AreEqual(0, fs.TrackedInodes);
        Assert.AreEqual(-(int)Errno.ENOENT, wire.CallExpectingReply(FuseOpcode.Getattr, keep, new byte[16]).Error, "a forgotten number finds nothing");

        var again = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        Assert.IsGreaterThan(keep, again, "new numbers, never old ones");

        // A batch claiming more entries than it carries is read only as far as it goes.
        BitConverter.TryWriteBytes(batch, 1000u);
        Assert.IsNull(wire.Call(FuseOpcode.BatchForget, 0, batch));
    }

    [TestMethod]
    public void A_missing_name_in_a_directory_is_a_cached_negative_entry_but_not_at_the_store_root()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        var (error, payload) = wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name("nope"));
        Assert.AreEqual(0, error);
        var negative = FuseWire.Read<FuseEntryOut>(payload);
        Assert.AreEqual(0ul, negative.NodeId);
        Assert.IsGreaterThan(0ul, negative.EntryValid);

        // Imports add roots while mounted, so a miss there is not cached.
        Assert.AreEqual(-(int)Errno.ENOENT, wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name("00000000000000000000000000000000-nope")).Error);
    }

    [TestMethod]
    public void Getxattr_answers_length_queries_and_refuses_short_buffers()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        byte[] Body(uint size, string name) => [.. FuseWire.Bytes(new FuseGetxattrIn { Size = size }), .. FuseWire.Name(name)];

        var value = Encoding.ASCII.GetBytes(Fixtures.DirectoryComplicated.Digest().ToString());
        var (error, payload) = wire.CallExpectingReply(FuseOpcode.Getxattr, dir, Body(0, ExtendedAttributes.DirectoryDigest));
        Assert.AreEqual(0, error);
        Assert.AreEqual((uint)value.Length, FuseWire.Read<FuseGetxattrOut>(payload).Size);
        Assert.AreEqual(-(int)Errno.ERANGE, wire.CallExpectingReply(FuseOpcode.Getxattr, dir, Body(4, ExtendedAttributes.DirectoryDigest)).Error);
        CollectionAssert.AreEqual(value, wire.CallExpectingReply(FuseOpcode.Getxattr, dir, Body(256, ExtendedAttributes.DirectoryDigest)).Payload);
        Assert.AreEqual(-(int)Errno.ENODATA, wire.CallExpectingReply(FuseOpcode.Getxattr, dir, Body(256, "user.other")).Error);
        Assert.AreEqual(-(int)Errno.ENODATA, wire.CallExpectingReply(FuseOpcode.Getxattr, 1, Body(256, ExtendedAttributes.DirectoryDigest)).Error, "the store root has no digest");
    }

    [TestMethod]
    public void Without_passthrough_opens_are_declined_and_files_are_read_by_inode()
    {
        var (server, _) = Start();
        var wire = new FuseWire(server);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        Assert.AreEqual(-(int)Errno.EISDIR, wire.CallExpectingReply(FuseOpcode.Open, dir, FuseWire.Bytes(new FuseOpenIn())).Error);
        Assert.AreEqual(-(int)Errno.EISDIR, wire.CallExpectingReply(FuseOpcode.Read, dir, FuseWire.Bytes(new FuseReadIn { Size = 10 })).Error);
        Assert.AreEqual(-(int)Errno.ENOENT, wire.CallExpectingReply(FuseOpcode.Open, 999, FuseWire.Bytes(new FuseOpenIn())).Error);

        var keep = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name(".keep")).Payload).NodeId;
        Assert.AreEqual(-(int)Errno.EROFS, wire.CallExpectingReply(FuseOpcode.Open, keep, FuseWire.Bytes(new FuseOpenIn { Flags = 1 })).Error);

        // ENOSYS is the kernel's cue to send no more OPEN, RELEASE or FLUSH (no_open, no_flush).
        Assert.AreEqual(-(int)Errno.ENOSYS, wire.CallExpectingReply(FuseOpcode.Open, keep, FuseWire.Bytes(new FuseOpenIn())).Error);
        Assert.AreEqual(-(int)Errno.ENOSYS, wire.CallExpectingReply(FuseOpcode.Flush, keep, FuseWire.Bytes(new FuseReleaseIn())).Error);
        var (error, payload) = wire.CallExpectingReply(FuseOpcode.Read, keep, FuseWire.Bytes(new FuseReadIn { Size = 4096 }));
        Assert.AreEqual(0, error);
        Assert.IsEmpty(payload);
    }

    [TestMethod]
    public void With_passthrough_reads_of_a_stale_handle_are_EBADF()
    {
        var (server, _) = Start(new FuseServerOptions { BackingFiles = new NoBackingFiles() });
        var wire = new FuseWire(server);
        wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit));
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        Assert.AreEqual(-(int)Errno.EISDIR, wire.CallExpectingReply(FuseOpcode.Open, dir, FuseWire.Bytes(new FuseOpenIn())).Error);
        Assert.AreEqual(-(int)Errno.EBADF, wire.CallExpectingReply(FuseOpcode.Read, dir, FuseWire.Bytes(new FuseReadIn { Fh = 77, Size = 10 })).Error);

        // A blob with no file to hand over (a memory store) is opened and served by the daemon.
        var keep = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name(".keep")).Payload).NodeId;
        Assert.AreEqual(-(int)Errno.EROFS, wire.CallExpectingReply(FuseOpcode.Open, keep, FuseWire.Bytes(new FuseOpenIn { Flags = 1 })).Error);
        var open = FuseWire.Read<FuseOpenOut>(wire.CallExpectingReply(FuseOpcode.Open, keep, FuseWire.Bytes(new FuseOpenIn())).Payload);
        Assert.AreEqual(FuseOpenOptions.KeepCache | FuseOpenOptions.NoFlush, open.OpenFlags);
        Assert.IsEmpty(wire.CallExpectingReply(FuseOpcode.Read, keep, FuseWire.Bytes(new FuseReadIn { Fh = open.Fh, Size = 4096 })).Payload);
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Release, keep, FuseWire.Bytes(new FuseReleaseIn { Fh = open.Fh })).Error);
        Assert.AreEqual(-(int)Errno.EBADF, wire.CallExpectingReply(FuseOpcode.Read, keep, FuseWire.Bytes(new FuseReadIn { Fh = open.Fh, Size = 10 })).Error);
    }

    [TestMethod]
    public void Destroy_ends_a_session_and_a_second_init_starts_clean()
    {
        var (server, fs) = Start();
        var wire = new FuseWire(server);
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit)).Error);
        Assert.IsTrue(server.SessionLive);
        var dir = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        var keep = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, dir, FuseWire.Name(".keep")).Payload).NodeId;
        Assert.AreEqual(2, fs.TrackedInodes);

        // DESTROY (umount) takes a reply, and drops all the kernel held.
        var (error, payload) = wire.CallExpectingReply(FuseOpcode.Destroy, 0, []);
        Assert.AreEqual(0, error);
        Assert.IsEmpty(payload);
        Assert.IsFalse(server.SessionLive);
        Assert.AreEqual(0, fs.TrackedInodes, "the kernel that held them is gone");
        Assert.AreEqual(-(int)Errno.ENOENT, wire.CallExpectingReply(FuseOpcode.Getattr, keep, new byte[16]).Error, "a node of the old session finds nothing");

        // Mounting again: a new session, the same names, numbers never used before.
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit)).Error);
        Assert.AreEqual(2, server.Sessions);
        var again = FuseWire.Read<FuseEntryOut>(wire.CallExpectingReply(FuseOpcode.Lookup, 1, FuseWire.Name(Complicated)).Payload).NodeId;
        Assert.AreNotEqual(dir, again);
        Assert.AreEqual(1, fs.TrackedInodes);

        // A guest that reboots sends INIT with no DESTROY before it: the old session ends there.
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Init, 0, FuseWire.Bytes(KernelInit)).Error);
        Assert.AreEqual(3, server.Sessions);
        Assert.AreEqual(0, fs.TrackedInodes);
        Assert.AreEqual(-(int)Errno.ENOENT, wire.CallExpectingReply(FuseOpcode.Getattr, again, new byte[16]).Error);
        Assert.AreEqual(0, wire.CallExpectingReply(FuseOpcode.Getattr, 1, new byte[16]).Error, "the root is always there");
    }

    private static (FuseServer Server, CastoreFileSystem Fs) Start(FuseServerOptions? options = null)
    {
        var store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        store.Blobs.PutAsync(Array.Empty<byte>()).GetAwaiter().GetResult();
        var putter = store.Directories.BeginPut();
        putter.PutAsync(Fixtures.DirectoryWithKeep).AsTask().GetAwaiter().GetResult();
        putter.PutAsync(Fixtures.DirectoryComplicated).AsTask().GetAwaiter().GetResult();
        putter.CloseAsync().GetAwaiter().GetResult();
        var name = Google.Protobuf.ByteString.CopyFromUtf8(Complicated);
        store.PathInfos.PutAsync(new PathInfo { Node = new Node { Directory = Fixtures.DirectoryComplicated.ToNode(name) } }).GetAwaiter().GetResult();
        var fs = CastoreFileSystem.OpenAsync(store).GetAwaiter().GetResult();
        return (new FuseServer(fs, options), fs);
    }

    private sealed class NoBackingFiles : IFuseBackingFiles
    {
        public int Open(SafeFileHandle file) => -(int)Errno.EPERM;

        public int Close(int backingId) => -(int)Errno.EINVAL;
    }
}
