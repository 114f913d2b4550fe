using CastoreFs.Core.Blake3;
using CastoreFs.Core.Model;
using Google.Protobuf;

namespace CastoreFs.Core.Tests.Model;

[TestClass]
public sealed class FixtureDigestTests
{
    [TestMethod]
    public void Blob_fixtures_hash_to_their_known_digests()
    {
        Assert.AreEqual(Fixtures.EmptyBlobDigest, Blake3Hasher.Hash([]));
        Assert.AreEqual(Fixtures.HelloWorldDigest, Blake3Hasher.Hash(Fixtures.HelloWorldBlob));
        Assert.AreEqual(Fixtures.BlobADigest, Blake3Hasher.Hash(Fixtures.BlobA));
        Assert.AreEqual(1_044_480, Fixtures.BlobB.Length);
        Assert.AreEqual(Fixtures.BlobBDigest, Blake3Hasher.Hash(Fixtures.BlobB));
        StringAssert.StartsWith(Blake3Hasher.Hash([1, 2, 3]).ToHex(), "b177ec1b");
        StringAssert.EndsWith(Blake3Hasher.Hash([1, 2, 3]).ToHex(), "496543");
        StringAssert.StartsWith(Blake3Hasher.Hash([4, 5]).ToHex(), "5f805527");
        StringAssert.EndsWith(Blake3Hasher.Hash([4, 5]).ToHex(), "d4c525");
    }

    [TestMethod]
    public void Empty_directory_encodes_to_nothing_and_has_the_empty_blob_digest()
    {
        Assert.AreEqual(0, Fixtures.DirectoryA.ToByteArray().Length);
        Assert.AreEqual(Fixtures.EmptyBlobDigest, Fixtures.DirectoryA.Digest());
        Assert.AreEqual(0UL, Fixtures.DirectoryA.Size());
    }

    [TestMethod]
    public void Directory_with_keep_has_its_43_byte_encoding_digest_and_seed_size()
    {
        var bytes = Fixtures.DirectoryWithKeep.ToByteArray();
        Assert.AreEqual("12290a052e6b65657012" + "20" + Fixtures.EmptyBlobDigest.ToHex(), Convert.ToHexStringLower(bytes));
        Assert.AreEqual(43, bytes.Length);
        Assert.AreEqual("8b5b5d642b646bb8ed504b0862c39413e87e57491497de7bd075953f7b83810e", Fixtures.DirectoryWithKeep.Digest().ToHex());
        Assert.AreEqual(1UL, Fixtures.DirectoryWithKeep.Size());
    }

    [TestMethod]
    public void Directory_complicated_has_the_seed_digest_and_size()
    {
        Assert.AreEqual(119, Fixtures.DirectoryComplicated.ToByteArray().Length);
        Assert.AreEqual("3f951a15afd586fb3121ef4d13d582e811ce0e5a7f21c0497fd87490e9e2355a", Fixtures.DirectoryComplicated.Digest().ToHex());
        Assert.AreEqual(4UL, Fixtures.DirectoryComplicated.Size());
    }

    [TestMethod]
    public void Directories_b_c_d_have_their_seed_digests()
    {
        Assert.AreEqual("8701f4722d8dae7f2c40fa003331b8437a3825f9e1bfd3a77998c64cc226b9cc", Fixtures.DirectoryB.Digest().ToHex());
        Assert.AreEqual(1UL, Fixtures.DirectoryB.Size());
        Assert.AreEqual("78eb200ae0cc95d4ea954655fbcf91e285013a261310e161927f2401d2bca803", Fixtures.DirectoryC.Digest().ToHex());
        Assert.AreEqual("99922a5c1801805287a647af73bca0ed7352a5f7f373e54992795bcc4a235213", Fixtures.DirectoryD.Digest().ToHex());
    }

    [TestMethod]
    public void Unknown_fields_are_not_part_of_the_digest()
    {
        var bytes = Fixtures.DirectoryWithKeep.ToByteArray().Concat(new byte[] { 0x78, 0x01 }).ToArray(); // field 15, varint 1
        var parsed = DirectoryRules.Parser.ParseFrom(bytes);
        Assert.AreEqual(Fixtures.DirectoryWithKeep.Digest(), parsed.Digest());
    }

    [TestMethod]
    public void Digest_display_form_is_blake3_dash_base64_and_parses_back()
    {
        var text = Fixtures.EmptyBlobDigest.ToString();
        Assert.AreEqual("blake3-rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=", text);
        Assert.IsTrue(Core.Digests.B3Digest.TryParse(text, out var parsed));
        Assert.AreEqual(Fixtures.EmptyBlobDigest, parsed);
        Assert.IsTrue(Core.Digests.B3Digest.TryParse(Fixtures.EmptyBlobDigest.ToHex(), out parsed));
        Assert.AreEqual(Fixtures.EmptyBlobDigest, parsed);
        Assert.IsFalse(Core.Digests.B3Digest.TryParse("blake3-AAAA", out _));
    }
}
