using CastoreFs.Core.Nix;

namespace CastoreFs.Core.Tests.Nix;

[TestClass]
public sealed class NixBase32Tests
{
    [TestMethod]
    [DataRow("", "")]
    [DataRow("1f", "0z")]
    [DataRow("8a12321522fd91efbd60ebb2481af88580f61600", "00bgd045z0d4icpbc2yyz4gx48ak44la")]
    [DataRow("dcb52132ba1624e285ece000e809712fd8e33dcfbb9789014eec301ac725c9eb", "1sy94p3ilc7c9q0qk5xvrwyy7n1gf44yh070xj2y490np8r23dfw")]
    [DataRow("e9201469cdef2a1d47197b43edf71f4e73b5adc66c4241b383785b391563ba5f", "0pxsccakjnvqhfrl2hkcqsnvawsf3zvyshvv353isapgrmli8879")]
    public void Encodes_and_decodes_known_vectors(string hex, string encoded)
    {
        Assert.AreEqual(encoded, NixBase32.Encode(Convert.FromHexString(hex)));
        Assert.AreEqual(hex, Convert.ToHexStringLower(NixBase32.Decode(encoded)));
    }

    [TestMethod]
    public void Sha256_vector_decodes_to_the_known_hash_ends()
    {
        var hex = Convert.ToHexStringLower(NixBase32.Decode("0c5b8vw40dy178xlpddw65q9gf1h2186jcc3p4swinwggbllv8mk"));
        StringAssert.StartsWith(hex, "b3a24de9");
        StringAssert.EndsWith(hex, "46ab30");
    }

    [TestMethod]
    [DataRow("zz")]
    [DataRow("c0")]
    public void Set_bits_past_the_end_are_rejected(string text) =>
        Assert.ThrowsExactly<FormatException>(() => NixBase32.Decode(text));

    [TestMethod]
    [DataRow("0e")]
    [DataRow("0o")]
    [DataRow("0t")]
    [DataRow("0u")]
    [DataRow("0Z")]
    [DataRow("0-")]
    public void Characters_outside_the_alphabet_are_rejected(string text) =>
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => NixBase32.Decode(text)).Message, "character");

    [TestMethod]
    public void Length_that_no_byte_count_encodes_to_is_rejected() =>
        Assert.ThrowsExactly<FormatException>(() => NixBase32.Decode("000"));

    [TestMethod]
    public void Random_bytes_round_trip()
    {
        var random = new Random(5);
        for (int length = 0; length < 70; length++)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            var text = NixBase32.Encode(bytes);
            Assert.AreEqual(NixBase32.EncodedLength(length), text.Length);
            CollectionAssert.AreEqual(bytes, NixBase32.Decode(text));
        }
    }
}
