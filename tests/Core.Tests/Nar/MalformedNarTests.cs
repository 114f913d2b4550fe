using System.Buffers.Binary;
using System.Text;
using CastoreFs.Core.Import;
using CastoreFs.Core.Services;

namespace CastoreFs.Core.Tests.Nar;

/// <summary>Bad NARs get an error that says what is wrong, and register no path info.</summary>
[TestClass]
public sealed class MalformedNarTests
{
    [TestMethod]
    public async Task Nar_truncated_at_any_length_is_rejected_and_registers_nothing()
    {
        using var source = await NarFixtureTests.StoreWithFixturesAsync();
        var nar = await NarFixtureTests.RenderAsync(source, NarFixtureTests.Root("complicated"));
        for (int length = 0; length < nar.Length; length++)
        {
            using var target = CastoreStore.Open("memory://");
            var e = await Assert.ThrowsExactlyAsync<ImportException>(
                () => new NarImporter(target).ImportAsync(new MemoryStream(nar[..length]), "x", "cut.nar"), $"length {length}");
            StringAssert.Contains(e.Message, "cut.nar");
            await AssertNothingRegisteredAsync(target);
        }
    }

    [TestMethod]
    public async Task Trailing_data_is_rejected()
    {
        using var source = await NarFixtureTests.StoreWithFixturesAsync();
        var nar = await NarFixtureTests.RenderAsync(source, NarFixtureTests.Root("helloworld"));
        await AssertRejectedAsync([.. nar, 0], "trailing data");
    }

    [TestMethod]
    public async Task Wrong_magic_is_rejected() =>
        await AssertRejectedAsync(Nar(Str("nix-archive-2"), Str("("), Str("type"), Str("symlink"), Str("target"), Str("x"), Str(")")), "nix-archive-1");

    [TestMethod]
    public async Task Unknown_node_type_is_rejected() =>
        await AssertRejectedAsync(Nar(Str("nix-archive-1"), Str("("), Str("type"), Str("fifo"), Str(")")), "unknown node type");

    [TestMethod]
    public async Task Non_zero_padding_is_rejected()
    {
        var nar = Nar(Str("nix-archive-1"), Str("("), Str("type"), Str("symlink"), Str("target"), Str("x"), Str(")"));
        int paddingOfTarget = nar.Length - 16 - 7;
        nar[paddingOfTarget] = 1;
        await AssertRejectedAsync(nar, "padding");
    }

    [TestMethod]
    public async Task Unsorted_entries_are_rejected() =>
        await AssertRejectedAsync(DirectoryNar("b", "a"), "not sorted");

    [TestMethod]
    public async Task Duplicate_entries_are_rejected() =>
        await AssertRejectedAsync(DirectoryNar("a", "a"), "duplicate");

    [TestMethod]
    [DataRow("..")]
    [DataRow("a/b")]
    [DataRow("")]
    public async Task Entry_names_castore_cannot_hold_are_rejected(string name) =>
        await AssertRejectedAsync(DirectoryNar(name), "invalid name");

    [TestMethod]
    public async Task Empty_symlink_target_is_rejected() =>
        await AssertRejectedAsync(Nar(Str("nix-archive-1"), Str("("), Str("type"), Str("symlink"), Str("target"), Str(""), Str(")")), "target");

    [TestMethod]
    public async Task Absurd_token_length_is_rejected_without_allocating_it()
    {
        var huge = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue / 2);
        await AssertRejectedAsync(Nar(Str("nix-archive-1"), Str("("), huge), "too long");
    }

    [TestMethod]
    public async Task Invalid_store_path_name_is_rejected_before_reading() =>
        await Assert.ThrowsExactlyAsync<ImportException>(() =>
            new NarImporter(CastoreStore.Open("memory://")).ImportAsync(new MemoryStream(), "bad name", "x.nar"));

    private static byte[] DirectoryNar(params string[] names)
    {
        var parts = new List<byte[]> { Str("nix-archive-1"), Str("("), Str("type"), Str("directory") };
        foreach (var name in names)
        {
            parts.AddRange([Str("entry"), Str("("), Str("name"), Str(name), Str("node"), Str("("), Str("type"), Str("symlink"), Str("target"), Str("t"), Str(")"), Str(")")]);
        }

        parts.Add(Str(")"));
        return Nar([.. parts]);
    }

    private static byte[] Nar(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var encoded = new byte[8 + ((bytes.Length + 7) / 8 * 8)];
        BinaryPrimitives.WriteUInt64LittleEndian(encoded, (ulong)bytes.Length);
        bytes.CopyTo(encoded, 8);
        return encoded;
    }

    private static async Task AssertRejectedAsync(byte[] nar, string messagePart)
    {
        using var store = CastoreStore.Open("memory://");
        var e = await Assert.ThrowsExactlyAsync<ImportException>(() => new NarImporter(store).ImportAsync(new MemoryStream(nar), "x", "bad.nar"));
        StringAssert.Contains(e.Message, messagePart);
        await AssertNothingRegisteredAsync(store);
    }

    private static async Task AssertNothingRegisteredAsync(CastoreStore store)
    {
        await foreach (var _ in store.PathInfos.ListAsync())
        {
            Assert.Fail("a path info was registered for a bad NAR");
        }
    }
}
