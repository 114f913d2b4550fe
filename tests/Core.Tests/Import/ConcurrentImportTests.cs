using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Import;
using CastoreFs.Core.Nar;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Import;

/// <summary>
/// Imports hash and write on several threads at once: a large file through stages side by side, small
/// files through commits in the background. What comes out is whole: every blob byte, the blob digests
/// and the NAR hash.
/// </summary>
[TestClass]
public sealed class ConcurrentImportTests
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

    [TestMethod]
    public async Task Tree_of_many_small_files_and_copies_imports_whole()
    {
        using var dir = new TempDirectory();
        var random = new Random(5);
        var tree = dir.Combine("tree");
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 300; i++)
        {
            var folder = Path.Combine(tree, $"d{i % 7}");
            Directory.CreateDirectory(folder);

            // Every third file is a copy of an earlier one; a few are past the small-file size.
            var data = i % 3 == 2 ? files.Values.ElementAt(random.Next(files.Count)) : new byte[random.Next(i % 50 == 0 ? 3 << 20 : 64 << 10)];
            if (i % 3 != 2)
            {
                random.NextBytes(data);
            }

            var path = Path.Combine(folder, $"f{i}");
            await File.WriteAllBytesAsync(path, data);
            files[path] = data;
        }

        using var store = CastoreStore.Open(dir.Combine("store"));
        var imported = await new PathImporter(store).ImportAsync(tree);

        using var rendered = new MemoryStream();
        await new NarRenderer(store.Blobs, store.Directories).RenderAsync(imported.Root, rendered);
        CollectionAssert.AreEqual(SHA256.HashData(rendered.ToArray()), imported.NarSha256.ToArray(), "the NAR hash is of the tree as stored");
        foreach (var (path, data) in files)
        {
            CollectionAssert.AreEqual(data, await store.Blobs.ReadAllAsync(Blake3Hasher.Hash(data)), path);
        }

        var blobFiles = Directory.GetFiles(dir.Combine("store", "blobs"), "*", SearchOption.AllDirectories);
        Assert.AreEqual(files.Values.Select(data => Blake3Hasher.Hash(data)).Distinct().Count(), blobFiles.Length, "one file per distinct blob, no temp file left");
        Assert.AreEqual(0, Directory.GetFiles(dir.Combine("store", "tmp")).Length);
    }

    /// <summary>The NAR of one regular file, framed by hand as Nix writes it: the known answer for the NAR hash.</summary>
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
