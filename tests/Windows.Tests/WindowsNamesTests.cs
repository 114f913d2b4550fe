using System.Text;
using CastoreFs.Platforms.Windows;

namespace CastoreFs.Windows.Tests;

[TestClass]
public sealed class WindowsNamesTests
{
    [TestMethod]
    [DataRow("plain.txt", "plain.txt")]
    [DataRow("a:b", "a\uF03Ab")]
    [DataRow("<>\"|?*", "\uF03C\uF03E\uF022\uF07C\uF03F\uF02A")]
    [DataRow("back\\slash", "back\uF05Cslash")]
    [DataRow("tab\tname", "tab\uF009name")]
    [DataRow("trail.", "trail\uF02E")]
    [DataRow("trail. .", "trail\uF02E\uF020\uF02E")]
    [DataRow("...", "\uF02E\uF02E\uF02E")]
    [DataRow(".hidden", ".hidden")]
    [DataRow("a b", "a b")]
    [DataRow("Grüße €", "Grüße €")]
    [DataRow("emoji 🙂", "emoji 🙂")]
    [DataRow("private \uF03A", "private \uF0EF\uF080\uF0BA")]
    public void Names_map_and_map_back(string store, string windows)
    {
        var bytes = Encoding.UTF8.GetBytes(store);
        Assert.AreEqual(windows, Map(bytes));
        CollectionAssert.AreEqual(bytes, Unmap(windows));
    }

    [TestMethod]
    public void Bytes_that_are_not_utf8_map_one_to_one()
    {
        byte[] name = [(byte)'x', 0xFF, 0xC3, (byte)'y', 0xE2, 0x82];
        Assert.AreEqual("x\uF0FF\uF0C3y\uF0E2\uF082", Map(name));
        CollectionAssert.AreEqual(name, Unmap(Map(name)));
    }

    [TestMethod]
    [DataRow("a:b")]
    [DataRow("q?")]
    [DataRow("h\uF065llo")]
    [DataRow("\uF000")]
    [DataRow("")]
    public void Windows_names_no_store_name_maps_to_are_not_names(string windows) => Assert.IsNull(Unmap(windows));

    [TestMethod]
    public void A_lone_surrogate_is_no_name() => Assert.IsNull(Unmap(new string(['a', '\uD800', 'b'])));

    [TestMethod]
    public void Random_names_round_trip_and_never_collide()
    {
        var random = new Random(11);
        var seen = new Dictionary<string, string>();
        for (int i = 0; i < 20000; i++)
        {
            var bytes = new byte[random.Next(1, 40)];
            random.NextBytes(bytes);
            for (int j = 0; j < bytes.Length; j++)
            {
                // castore names hold neither NUL nor '/'.
                if (bytes[j] is 0 or (byte)'/')
                {
                    bytes[j] = (byte)'x';
                }

                // Half the names mostly ASCII, where the escapes matter most.
                if (i % 2 == 0 && bytes[j] >= 0x80 && random.Next(4) != 0)
                {
                    bytes[j] &= 0x7F;
                    bytes[j] = bytes[j] is 0 or (byte)'/' ? (byte)'.' : bytes[j];
                }
            }

            var windows = Map(bytes);
            Assert.IsTrue(windows.Length <= bytes.Length, "never longer than the bytes");
            Assert.IsFalse(windows.Any(c => c < 0x20 || "<>:\"/\\|?*".Contains(c, StringComparison.Ordinal)), windows);
            Assert.IsFalse(windows.EndsWith('.') || windows.EndsWith(' '), "no trailing dot or space");
            CollectionAssert.AreEqual(bytes, Unmap(windows));
            var key = Convert.ToHexString(bytes);
            if (seen.TryGetValue(windows, out var other))
            {
                Assert.AreEqual(other, key, "two store names share the Windows name " + windows);
            }

            seen[windows] = key;
        }
    }

    private static string Map(byte[] name)
    {
        var chars = new char[WindowsNames.MaxChars];
        return new string(chars, 0, WindowsNames.Map(name, chars));
    }

    private static byte[]? Unmap(string name)
    {
        var bytes = new byte[(name.Length * 3) + 4];
        int length = WindowsNames.Unmap(name, bytes);
        return length < 0 ? null : bytes[..length];
    }
}
