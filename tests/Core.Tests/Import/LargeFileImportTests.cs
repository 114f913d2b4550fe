using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Import;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Import;

/// <summary>
/// A file larger than the importers' buffers, hashed and written by stages that run side by side, comes
/// out whole: every blob byte, the blob digest and the NAR hash, from a path and from a NAR stream.
/// </summary>
[TestClass]
public sealed class LargeFileImportTests
{
    /// <summary>Past the path importer's ring of four 4 MiB buffers twice over, with a tail that fills no block.</summary>
    private const int Size = (37 << 20) + 5;

    [TestMethod]
    public async Task Path_and_nar_imports_of_a_large_file_keep_every_byte()
    {
        using var dir = new TempDirectory();
        var data = new byte[Size];
        new Random(7).NextBytes(data);
        var source = dir.Combine("large.bin");
        await File.WriteAllBytesAsync(source, data);
        var nar = RegularFileNar(data);

        using var store = CastoreStore.Open(dir.Combine("store"));
        var imported = await new PathImporter(store).ImportAsync(source);
        Assert.AreEqual(Blake3Hasher.Hash(data), B3Digest.FromProto(imported.Root.File.Digest));
        CollectionAssert.AreEqual(SHA256.HashData(nar), imported.NarSha256.ToArray());
        Assert.AreEqual((ulong)nar.Length, imported.NarSize);
        CollectionAssert.AreEqual(data, await store.Blobs.ReadAllAsync(Blake3Hasher.Hash(data)));

        using var fromNar = CastoreStore.Open(dir.Combine("from-nar"));
        var narImported = await new NarImporter(fromNar).ImportAsync(new MemoryStream(nar), "large.bin", "test NAR");
        Assert.AreEqual(imported.PathInfo, narImported.PathInfo);
        CollectionAssert.AreEqual(data, await fromNar.Blobs.ReadAllAsync(Blake3Hasher.Hash(data)));
    }

    /// <summary>The NAR of one regular file, framed by hand (nix.md): the known answer for the NAR hash.</summary>
    private static byte[] RegularFileNar(byte[] contents)
    {
        using var nar = new MemoryStream();
        foreach (var token in new[] { "nix-archive-1", "(", "type", "regular", "contents" })
        {
            WriteBytes(nar, Encoding.ASCII.GetBytes(token));
        }

        WriteBytes(nar, contents);
        WriteBytes(nar, ")"u8.ToArray());
        return nar.ToArray();
    }

    private static void WriteBytes(Stream nar, byte[] bytes)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)bytes.Length);
        nar.Write(length);
        nar.Write(bytes);
        nar.Write(new byte[(8 - (bytes.Length % 8)) % 8]);
    }
}
