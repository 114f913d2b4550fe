using System.Text;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using CastoreFs.Core.Services.PathInfos;
using CastoreFs.Core.Tests;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Linux.Tests;

/// <summary>The seed's FUSE test roots (upstream's fs tests) in a memory store.</summary>
internal static class SeedStore
{
    public const string BlobA = "00000000000000000000000000000000-test";
    public const string BlobB = "55555555555555555555555555555555-test";
    public const string HelloWorldExecutable = "66666666666666666666666666666666-test";
    public const string SymlinkToBlobA = "11111111111111111111111111111111-test";
    public const string SymlinkElsewhere = "44444444444444444444444444444444-test";
    public const string DirectoryWithKeep = "22222222222222222222222222222222-test";
    public const string DirectoryComplicated = "33333333333333333333333333333333-test";

    public static readonly string[] AllRoots =
        [BlobA, SymlinkToBlobA, DirectoryWithKeep, DirectoryComplicated, SymlinkElsewhere, BlobB, HelloWorldExecutable];

    /// <summary>Every root with its data; <paramref name="withBlobs"/> and <paramref name="withDirectories"/> leave data out to test a store that lacks it.</summary>
    public static CastoreStore Create(bool withBlobs = true, bool withDirectories = true)
    {
        var store = new CastoreStore(new MemoryBlobService(), new MemoryDirectoryService(), new MemoryPathInfoService());
        if (withBlobs)
        {
            foreach (var blob in new[] { Fixtures.BlobA, Fixtures.BlobB, Fixtures.HelloWorldBlob, [] })
            {
                store.Blobs.PutAsync(blob).GetAwaiter().GetResult();
            }
        }

        if (withDirectories)
        {
            PutClosure(store.Directories, Fixtures.DirectoryWithKeep);
            PutClosure(store.Directories, Fixtures.DirectoryWithKeep, Fixtures.DirectoryComplicated);
        }

        Put(store, new Node { File = new FileNode { Name = Bytes(BlobA), Digest = Fixtures.BlobADigest.ToByteString(), Size = (ulong)Fixtures.BlobA.Length } });
        Put(store, new Node { File = new FileNode { Name = Bytes(BlobB), Digest = Fixtures.BlobBDigest.ToByteString(), Size = (ulong)Fixtures.BlobB.Length } });
        Put(store, new Node { File = new FileNode { Name = Bytes(HelloWorldExecutable), Digest = Fixtures.HelloWorldDigest.ToByteString(), Size = 12, Executable = true } });
        Put(store, new Node { Symlink = new SymlinkNode { Name = Bytes(SymlinkToBlobA), Target = Bytes(BlobA) } });
        Put(store, new Node { Symlink = new SymlinkNode { Name = Bytes(SymlinkElsewhere), Target = Bytes("/nix/store/somewhereelse") } });
        Put(store, new Node { Directory = Fixtures.DirectoryWithKeep.ToNode(Bytes(DirectoryWithKeep)) });
        Put(store, new Node { Directory = Fixtures.DirectoryComplicated.ToNode(Bytes(DirectoryComplicated)) });
        return store;
    }

    public static void Put(CastoreStore store, Node root) => store.PathInfos.PutAsync(new PathInfo { Node = root }).GetAwaiter().GetResult();

    public static void PutClosure(IDirectoryService directories, params Directory[] leavesFirst)
    {
        var putter = directories.BeginPut();
        foreach (var directory in leavesFirst)
        {
            putter.PutAsync(directory).AsTask().GetAwaiter().GetResult();
        }

        putter.CloseAsync().GetAwaiter().GetResult();
        putter.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    public static ByteString Bytes(string s) => ByteString.CopyFrom(Encoding.UTF8.GetBytes(s));
}
