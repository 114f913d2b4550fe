using System.Text;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Castore.V1;
using Snix.Store.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Tests;

/// <summary>The seed's castore and store fixtures (upstream's castore/src/fixtures.rs) with their known answers.</summary>
internal static class Fixtures
{
    public static readonly byte[] HelloWorldBlob = Encoding.ASCII.GetBytes("Hello World!");
    public static readonly B3Digest HelloWorldDigest = B3Digest.FromHex("5ca7815adcb484e9a136c11efe69c1d530176d549b5d18d038eb5280b4b3470c");
    public static readonly B3Digest EmptyBlobDigest = B3Digest.FromHex("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    public static readonly byte[] BlobA = [0x00, 0x01];
    public static readonly B3Digest BlobADigest = B3Digest.FromHex("7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63");
    public static readonly byte[] BlobB = MakeBlobB();
    public static readonly B3Digest BlobBDigest = B3Digest.FromHex("a82c5154a7a0c262c6fdb929a317585646f8fbcf80326d0a7b8747edaf2d99d2");
    public static readonly byte[] DummyDigest = new byte[32];

    public static Directory DirectoryWithKeep => new()
    {
        Files = { new FileNode { Name = Bytes(".keep"), Digest = EmptyBlobDigest.ToByteString(), Size = 0 } },
    };

    public static Directory DirectoryComplicated => new()
    {
        Directories = { new DirectoryNode { Name = Bytes("keep"), Digest = DirectoryWithKeep.Digest().ToByteString(), Size = DirectoryWithKeep.Size() } },
        Files = { new FileNode { Name = Bytes(".keep"), Digest = EmptyBlobDigest.ToByteString(), Size = 0 } },
        Symlinks = { new SymlinkNode { Name = Bytes("aa"), Target = Bytes("/nix/store/somewhereelse") } },
    };

    public static Directory DirectoryA => new();

    public static Directory DirectoryB => new()
    {
        Directories = { new DirectoryNode { Name = Bytes("a"), Digest = DirectoryA.Digest().ToByteString(), Size = DirectoryA.Size() } },
    };

    public static Directory DirectoryC => new()
    {
        Directories =
        {
            new DirectoryNode { Name = Bytes("a"), Digest = DirectoryA.Digest().ToByteString(), Size = DirectoryA.Size() },
            new DirectoryNode { Name = Bytes("a'"), Digest = DirectoryA.Digest().ToByteString(), Size = DirectoryA.Size() },
        },
    };

    public static Directory DirectoryD => new()
    {
        Directories =
        {
            new DirectoryNode { Name = Bytes("a"), Digest = DirectoryA.Digest().ToByteString(), Size = DirectoryA.Size() },
            new DirectoryNode { Name = Bytes("b"), Digest = DirectoryB.Digest().ToByteString(), Size = DirectoryB.Size() },
        },
    };

    public const string DummyName = "00000000000000000000000000000000-dummy";

    public static PathInfo PathInfoWithoutNarInfo => new()
    {
        Node = new Node { Directory = new DirectoryNode { Name = Bytes(DummyName), Digest = ByteString.CopyFrom(DummyDigest), Size = 0 } },
        References = { ByteString.CopyFrom(new byte[20]) },
    };

    public static PathInfo PathInfoWithNarInfo
    {
        get
        {
            var p = PathInfoWithoutNarInfo;
            p.Narinfo = new NARInfo
            {
                NarSize = 0,
                NarSha256 = ByteString.CopyFrom(DummyDigest),
                ReferenceNames = { DummyName },
                Ca = new NARInfo.Types.CA { Type = NARInfo.Types.CA.Types.Hash.NarSha256, Digest = ByteString.CopyFrom(DummyDigest) },
            };
            return p;
        }
    }

    public static ByteString Bytes(string s) => ByteString.CopyFromUtf8(s);

    private static byte[] MakeBlobB()
    {
        var blob = new byte[255 * 4096];
        for (int i = 0; i < blob.Length; i++)
        {
            blob[i] = (byte)(i % 255);
        }

        return blob;
    }
}
