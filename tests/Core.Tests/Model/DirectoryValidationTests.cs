using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Castore.V1;
using Directory = Snix.Castore.V1.Directory;

namespace CastoreFs.Core.Tests.Model;

[TestClass]
public sealed class DirectoryValidationTests
{
    private static readonly ByteString Digest32 = ByteString.CopyFrom(new byte[32]);

    [TestMethod]
    public void Fixtures_are_valid()
    {
        Fixtures.DirectoryA.Validate();
        Fixtures.DirectoryB.Validate();
        Fixtures.DirectoryC.Validate();
        Fixtures.DirectoryD.Validate();
        Fixtures.DirectoryWithKeep.Validate();
        Fixtures.DirectoryComplicated.Validate();
    }

    [TestMethod]
    public void Empty_name_is_rejected() => AssertInvalid(WithFile(""), "empty");

    [TestMethod]
    public void Dot_name_is_rejected() => AssertInvalid(WithFile("."), "'.'");

    [TestMethod]
    public void Dot_dot_name_is_rejected() => AssertInvalid(WithFile(".."), "'..'");

    [TestMethod]
    public void Slash_in_name_is_rejected() => AssertInvalid(WithFile("a/b"), "'/'");

    [TestMethod]
    public void Nul_in_name_is_rejected() => AssertInvalid(WithFile("a\0b"), "NUL");

    [TestMethod]
    public void Name_longer_than_255_bytes_is_rejected()
    {
        WithFile(new string('x', 255)).Validate();
        AssertInvalid(WithFile(new string('x', 256)), "255");
    }

    [TestMethod]
    public void Empty_symlink_target_is_rejected() => AssertInvalid(WithSymlink(""), "target: empty");

    [TestMethod]
    public void Nul_in_symlink_target_is_rejected() => AssertInvalid(WithSymlink("a\0b"), "NUL");

    [TestMethod]
    public void Symlink_target_longer_than_4095_bytes_is_rejected()
    {
        WithSymlink(new string('t', 4095)).Validate();
        AssertInvalid(WithSymlink(new string('t', 4096)), "4095");
    }

    [TestMethod]
    public void File_digest_of_wrong_length_is_rejected() =>
        AssertInvalid(new Directory { Files = { new FileNode { Name = Fixtures.Bytes("f"), Digest = ByteString.CopyFrom(new byte[31]) } } }, "digest length 31");

    [TestMethod]
    public void Directory_digest_of_wrong_length_is_rejected() =>
        AssertInvalid(new Directory { Directories = { new DirectoryNode { Name = Fixtures.Bytes("d"), Digest = ByteString.CopyFrom(new byte[33]) } } }, "digest length 33");

    [TestMethod]
    public void Unsorted_list_is_rejected() =>
        AssertInvalid(new Directory
        {
            Files =
            {
                new FileNode { Name = Fixtures.Bytes("b"), Digest = Digest32 },
                new FileNode { Name = Fixtures.Bytes("a"), Digest = Digest32 },
            },
        }, "not sorted");

    [TestMethod]
    public void Sorting_is_by_bytes_not_by_culture()
    {
        new Directory
        {
            Files =
            {
                new FileNode { Name = Fixtures.Bytes("B"), Digest = Digest32 },
                new FileNode { Name = Fixtures.Bytes("a"), Digest = Digest32 },
                new FileNode { Name = Fixtures.Bytes("é"), Digest = Digest32 },
            },
        }.Validate();
    }

    [TestMethod]
    public void Duplicate_name_in_one_list_is_rejected() =>
        AssertInvalid(new Directory
        {
            Symlinks =
            {
                new SymlinkNode { Name = Fixtures.Bytes("a"), Target = Fixtures.Bytes("x") },
                new SymlinkNode { Name = Fixtures.Bytes("a"), Target = Fixtures.Bytes("y") },
            },
        }, "duplicate");

    [TestMethod]
    public void Duplicate_name_across_lists_is_rejected() =>
        AssertInvalid(new Directory
        {
            Directories = { new DirectoryNode { Name = Fixtures.Bytes("a"), Digest = Digest32 } },
            Files = { new FileNode { Name = Fixtures.Bytes("a"), Digest = Digest32 } },
        }, "duplicate");

    [TestMethod]
    public void Size_overflowing_u64_is_rejected() =>
        AssertInvalid(new Directory
        {
            Directories =
            {
                new DirectoryNode { Name = Fixtures.Bytes("a"), Digest = Digest32, Size = ulong.MaxValue - 1 },
                new DirectoryNode { Name = Fixtures.Bytes("b"), Digest = Digest32, Size = 1 },
            },
        }, "overflow");

    [TestMethod]
    public void Find_locates_entries_in_each_list_by_binary_search()
    {
        var d = Fixtures.DirectoryComplicated;
        Assert.AreEqual(Node.NodeOneofCase.Directory, d.Find("keep"u8)!.NodeCase);
        Assert.AreEqual(Node.NodeOneofCase.File, d.Find(".keep"u8)!.NodeCase);
        Assert.AreEqual(Node.NodeOneofCase.Symlink, d.Find("aa"u8)!.NodeCase);
        Assert.IsNull(d.Find("zz"u8));
        CollectionAssert.AreEqual(new[] { ".keep", "aa", "keep" }, d.EntriesInNameOrder().Select(n => NodeRules.NameOf(n).ToStringUtf8()).ToArray());
    }

    private static Directory WithFile(string name) =>
        new() { Files = { new FileNode { Name = ByteString.CopyFromUtf8(name), Digest = Digest32 } } };

    private static Directory WithSymlink(string target) =>
        new() { Symlinks = { new SymlinkNode { Name = Fixtures.Bytes("l"), Target = ByteString.CopyFromUtf8(target) } } };

    private static void AssertInvalid(Directory directory, string messagePart)
    {
        var e = Assert.ThrowsExactly<CastoreValidationException>(directory.Validate);
        StringAssert.Contains(e.Message, messagePart);
    }
}
