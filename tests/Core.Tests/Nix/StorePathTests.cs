using System.Security.Cryptography;
using System.Text;
using CastoreFs.Core.Nix;

namespace CastoreFs.Core.Tests.Nix;

[TestClass]
public sealed class StorePathTests
{
    [TestMethod]
    public void Parses_and_formats_a_basename_and_absolute_path()
    {
        var path = StorePath.Parse("00bgd045z0d4icpbc2yyz4gx48ak44la-net-tools-1.60_p20170221182432");
        Assert.AreEqual("8a12321522fd91efbd60ebb2481af88580f61600", Convert.ToHexStringLower(path.Digest));
        Assert.AreEqual("net-tools-1.60_p20170221182432", path.Name);
        Assert.AreEqual("/nix/store/00bgd045z0d4icpbc2yyz4gx48ak44la-net-tools-1.60_p20170221182432", path.AbsolutePath);
        Assert.AreEqual(path, StorePath.ParseAbsoluteOrBaseName(path.AbsolutePath));
    }

    [TestMethod]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la-")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la_foo")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44le-foo")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la-foo bar")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la-foo/bar")]
    [DataRow("00bgd045z0d4icpbc2yyz4gx48ak44la-fö")]
    public void Invalid_basenames_are_rejected(string baseName) =>
        Assert.ThrowsExactly<FormatException>(() => StorePath.Parse(baseName));

    [TestMethod]
    public void Name_may_start_with_a_dot_and_be_211_characters_but_not_212()
    {
        Assert.AreEqual(".dotfile", StorePath.Parse("00bgd045z0d4icpbc2yyz4gx48ak44la-.dotfile").Name);
        StorePath.ValidateName(new string('a', 211));
        Assert.ThrowsExactly<FormatException>(() => StorePath.ValidateName(new string('a', 212)));
        StorePath.ValidateName("a+-_?=.Z9");
    }

    [TestMethod]
    public void Source_path_of_a_directory_matches_nix_store_add()
    {
        var narSha256 = Convert.FromHexString("dcb52132ba1624e285ece000e809712fd8e33dcfbb9789014eec301ac725c9eb");
        Assert.AreEqual("/nix/store/jqmy3xyd1d673cfv5nljlrid9xygmi5z-nixdata", StorePathComputation.ForNarHash(narSha256, "nixdata").AbsolutePath);
    }

    [TestMethod]
    public void Source_path_of_a_single_file_hashes_its_nar_not_its_bytes()
    {
        var narSha256 = NixBase32.Decode("0qd9gwb4fpfkzh40a160wq4ibxyfd5c6saxyxi0gaasickdn6s7n");
        Assert.AreEqual("/nix/store/2dy16ikff6ighsq0n44vk3a6vf1j3qrw-flat.txt", StorePathComputation.ForNarHash(narSha256, "flat.txt").AbsolutePath);
    }

    [TestMethod]
    public void Flat_fixed_output_path_matches_nix_store_add_fixed()
    {
        var fileSha256 = SHA256.HashData(Encoding.ASCII.GetBytes("hello nix\n"));
        Assert.AreEqual("0jjz85knabqal997a8kwwabf8lwd5xs54pb0j1ykifrl3r41jaja", NixBase32.Encode(fileSha256));
        Assert.AreEqual("/nix/store/kfzskf13s7py0f1zmz7qb345z9q17dsk-flat.txt", StorePathComputation.ForFlatSha256(fileSha256, "flat.txt").AbsolutePath);
    }
}
