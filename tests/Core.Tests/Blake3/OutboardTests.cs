using System.Security.Cryptography;
using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;

namespace CastoreFs.Core.Tests.Blake3;

/// <summary>
/// Known answers for 1 MiB-group outboards: digests checked with b3sum, outboards byte-identical to
/// bao-tree 0.16's PreOrderOutboard at chunk log 10, group chaining values from BLAKE3's hazmat API.
/// Inputs follow the official vectors' pattern (byte j is j mod 251).
/// </summary>
[TestClass]
public sealed class OutboardTests
{
    private const int MiB = 1 << 20;

    [TestMethod]
    [DataRow(0L, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [DataRow(1024L, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [DataRow(1048576L, "74cb441fd087764ca9c3694da742ebe30cbeb3060a17009ca81825c7a8d10343", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [DataRow(1048577L, "2f053cd7472cf0cd2f9adaf45c1180255b91b9a865404a63671a0ee5f792ed33", 64, "216c802351b10b68453d1c5823c40d1612268b812b45922213c3f9cf3b4a5a28")]
    [DataRow(2097152L, "96fbba37478c16b7614c890b26832f67b541cf14e69ab8ebf0c739818588c9f1", 64, "90dabfa7b5697d93f9dc1524bb8cd123edcc567a7476804865837053ca33bc54")]
    [DataRow(3145851L, "62b3f6b8d7de8f2ecd6f2daee17f2046fa224b8aa0b14097dd7a2abd2a3abaae", 192, "e2d7070f5f844d57753faad721aed8a6aa45b3dd37192c13c88b1ffcf1cb02bb")]
    [DataRow(5242887L, "4ad8fff7183fb6486dc1a2d368d5bd3daa4f8fca845648ec36b78934559989cd", 320, "3b7c5716bd914a2089f211f9aa00f6fadde7be9a743dd127be27a91ee3127349")]
    public void Outboard_and_digest_match_the_known_answers(long size, string digest, int outboardLength, string outboardSha256)
    {
        var data = Pattern(size);
        Assert.AreEqual(digest, Blake3Hasher.Hash(data).ToHex());
        Assert.AreEqual(outboardLength, Outboard.Length(size));
        var outboard = OutboardOf(data, out var composed);
        Assert.AreEqual(outboardLength, outboard.Length);
        Assert.AreEqual(outboardSha256, Convert.ToHexStringLower(SHA256.HashData(outboard)));
        if (outboardLength > 0)
        {
            Assert.AreEqual(digest, composed.ToHex(), "the group chaining values compose to the blob's digest");
        }
    }

    [TestMethod]
    [DataRow(1048576L, 0L, "8a576541118ebf5fad8d683c09b63402288a71616ecc72514abf780822136023")]
    [DataRow(1048577L, 1L, "c9c46c08771af7fa62d0dd0771306ffa15e31193e59c318d4b348f81f32b8b4b")]
    [DataRow(2097152L, 1L, "e01e387e729abf35ba39644daebfa3a124ab9fee5a6445295e0309cc4fda53a7")]
    [DataRow(3145851L, 2L, "bdcf82608b11c686cb5a2618dc95a16978b73622e9a943dd26af5bdbf7f4b41b")]
    [DataRow(3145851L, 3L, "7eae066f5d9ff965a725a29a114a13a209c7f8ba7e21e9248678c7381236a8df")]
    [DataRow(5242887L, 3L, "194c9f97165ef54dc647db541c03c25fcff9636d67a8b3785ed71c2310a3abb7")]
    [DataRow(5242887L, 4L, "c7b5b292807bf5801b337ea932c9d8e31602571779905f66525b26bbea933b1f")]
    [DataRow(5242887L, 5L, "adb86499162c9a46f18352440063a33b39eda75850218efbf40f93c09dc233b0")]
    public void Group_chaining_values_match_the_known_answers(long size, long group, string expected)
    {
        var data = Pattern(size);
        Assert.AreEqual(expected, Convert.ToHexStringLower(GroupCv(data, group)));
    }

    [TestMethod]
    public void A_chunk_digest_is_not_its_chaining_value_in_the_blob()
    {
        var group1 = Pattern(3145851).AsSpan(MiB, MiB);
        Assert.AreEqual("ce7ce983fb2878cba93b6e4fd6d613aa42617934a5c5f21e6a8890fa1e31568d", Blake3Hasher.Hash(group1).ToHex());
        Assert.AreEqual("e01e387e729abf35ba39644daebfa3a124ab9fee5a6445295e0309cc4fda53a7", Convert.ToHexStringLower(GroupCv(Pattern(3145851), 1)));
        Assert.AreNotEqual("74cb441fd087764ca9c3694da742ebe30cbeb3060a17009ca81825c7a8d10343", Convert.ToHexStringLower(GroupCv(Pattern(MiB), 0)), "one group's CV is not its digest");
    }

    [TestMethod]
    [DataRow(3145851L, "38b9b11e3ac37c5119583675ce1f6519d1d8c23dba6625ff6e317209cfb5290491efa3ff923970c45ab7eb44d90e6964a151f138a889339dc3ba969e2a8761e5"
        + "8a576541118ebf5fad8d683c09b63402288a71616ecc72514abf780822136023e01e387e729abf35ba39644daebfa3a124ab9fee5a6445295e0309cc4fda53a7"
        + "bdcf82608b11c686cb5a2618dc95a16978b73622e9a943dd26af5bdbf7f4b41b7eae066f5d9ff965a725a29a114a13a209c7f8ba7e21e9248678c7381236a8df")]
    [DataRow(5242887L, "66c3728f16ef43866ba8c7fc0bf1f81407bbe7bf0974e508022a8bb151f92822e71599ed20238f6dfa7a63fedd8ef4a394d16c0d15fd0d2c0f3ee2b65c0b8483"
        + "38b9b11e3ac37c5119583675ce1f6519d1d8c23dba6625ff6e317209cfb52904528abaa738fad2e483adb7fab18a24f23b21a42ae2156f071dda2269b66db10a"
        + "8a576541118ebf5fad8d683c09b63402288a71616ecc72514abf780822136023e01e387e729abf35ba39644daebfa3a124ab9fee5a6445295e0309cc4fda53a7"
        + "bdcf82608b11c686cb5a2618dc95a16978b73622e9a943dd26af5bdbf7f4b41b194c9f97165ef54dc647db541c03c25fcff9636d67a8b3785ed71c2310a3abb7"
        + "c7b5b292807bf5801b337ea932c9d8e31602571779905f66525b26bbea933b1fadb86499162c9a46f18352440063a33b39eda75850218efbf40f93c09dc233b0")]
    public void Full_outboards_are_pre_order_pairs(long size, string expected)
    {
        Assert.AreEqual(expected, Convert.ToHexStringLower(OutboardOf(Pattern(size), out _)));
    }

    [TestMethod]
    [DataRow(1048577L)]
    [DataRow(2097152L)]
    [DataRow(3145851L)]
    [DataRow(5242887L)]
    [DataRow(9L * MiB)]
    public void A_genuine_outboard_verifies_and_every_group_matches(long size)
    {
        var data = Pattern(size);
        var digest = Blake3Hasher.Hash(data);
        var trusted = Outboard.Verify(digest, size, OutboardOf(data, out _));
        Assert.IsNotNull(trusted);
        for (long i = 0; i < Outboard.GroupCount(size); i++)
        {
            var group = data.AsSpan((int)(i * MiB), Outboard.GroupLength(size, i));
            Assert.IsTrue(Outboard.GroupMatches(group, i, trusted), $"group {i}");
            var flipped = group.ToArray();
            flipped[flipped.Length / 2] ^= 1;
            Assert.IsFalse(Outboard.GroupMatches(flipped, i, trusted), $"group {i} with a byte flipped");
            Assert.IsFalse(Outboard.GroupMatches(group[..^1], i, trusted), $"group {i} one byte short");
            if (i > 0)
            {
                Assert.IsFalse(Outboard.GroupMatches(group, i - 1, trusted), $"group {i} at the place of group {i - 1}");
            }
        }
    }

    [TestMethod]
    public void Every_flipped_outboard_byte_and_every_wrong_length_is_refused()
    {
        const long size = 5242887;
        var data = Pattern(size);
        var digest = Blake3Hasher.Hash(data);
        var outboard = OutboardOf(data, out _);
        for (int i = 0; i < outboard.Length; i++)
        {
            var bad = (byte[])outboard.Clone();
            bad[i] ^= 0x80;
            Assert.IsNull(Outboard.Verify(digest, size, bad), $"byte {i} flipped");
        }

        Assert.IsNull(Outboard.Verify(digest, size, outboard.AsSpan(0, outboard.Length - 64)), "truncated");
        Assert.IsNull(Outboard.Verify(digest, size, [.. outboard, .. new byte[64]]), "extended");
        Assert.IsNull(Outboard.Verify(digest, size, outboard.AsSpan(0, outboard.Length - 1)), "one byte short");
        Assert.IsNull(Outboard.Verify(Blake3Hasher.Hash(Pattern(size - 1)), size, outboard), "another blob's digest");
        Assert.IsNull(Outboard.Verify(digest, MiB, []), "one group has no outboard: its bytes are checked whole");
    }

    [TestMethod]
    public void A_wrong_size_is_caught_by_the_last_group()
    {
        // Six groups either way: the outboard verifies, and only the last group proves the size.
        const long size = 5242887;
        var data = Pattern(size);
        var trusted = Outboard.Verify(Blake3Hasher.Hash(data), size + 100, OutboardOf(data, out _));
        Assert.IsNotNull(trusted);
        Assert.IsTrue(Outboard.GroupMatches(data.AsSpan(0, MiB), 0, trusted));
        Assert.IsFalse(Outboard.GroupMatches(Pattern(size + 100).AsSpan(5 * MiB), 5, trusted));
    }

    [TestMethod]
    public void Parallel_hashing_of_a_subtree_gives_the_same_chaining_value()
    {
        var data = Pattern(5L * MiB);
        foreach (long group in new long[] { 0, 1, 4 })
        {
            var expected = GroupCv(data, group);
            var hasher = Blake3Hasher.ForSubtree((ulong)group * 1024);
            var piece = data.AsSpan((int)(group * MiB), MiB);
            hasher.Update(piece[..1000]).UpdateParallel(piece[1000..]);
            var actual = new byte[32];
            hasher.FinalizeNonRoot(actual);
            CollectionAssert.AreEqual(expected, actual, $"group {group} fed in two pieces");
        }
    }

    internal static byte[] Pattern(long size)
    {
        var data = new byte[size];
        for (long j = 0; j < size; j++)
        {
            data[j] = (byte)(j % 251);
        }

        return data;
    }

    private static byte[] GroupCv(byte[] data, long group)
    {
        var cv = new byte[32];
        Outboard.GroupChainingValue(data.AsSpan((int)(group * MiB), Outboard.GroupLength(data.Length, group)), group, cv);
        return cv;
    }

    private static byte[] OutboardOf(byte[] data, out B3Digest digest)
    {
        long groups = Outboard.GroupCount(data.Length);
        digest = default;
        if (groups == 1)
        {
            return [];
        }

        var cvs = new byte[groups * 32];
        for (long i = 0; i < groups; i++)
        {
            GroupCv(data, i).CopyTo(cvs, i * 32);
        }

        return Outboard.Create(cvs, out digest);
    }
}
