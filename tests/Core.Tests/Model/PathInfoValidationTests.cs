using CastoreFs.Core.Model;
using Google.Protobuf;
using Snix.Castore.V1;

namespace CastoreFs.Core.Tests.Model;

[TestClass]
public sealed class PathInfoValidationTests
{
    [TestMethod]
    public void Seed_fixtures_are_valid_and_name_the_dummy_store_path()
    {
        Assert.AreEqual(Fixtures.DummyName, Fixtures.PathInfoWithoutNarInfo.Validate().BaseName);
        Assert.AreEqual(Fixtures.DummyName, Fixtures.PathInfoWithNarInfo.Validate().BaseName);
    }

    [TestMethod]
    public void Missing_node_is_rejected()
    {
        var p = Fixtures.PathInfoWithNarInfo;
        p.Node = null;
        Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate());
    }

    [TestMethod]
    public void Root_name_that_is_not_a_store_path_is_rejected()
    {
        var p = Fixtures.PathInfoWithNarInfo;
        p.Node = NodeRules.WithName(p.Node, ByteString.CopyFromUtf8("not-a-store-path"));
        StringAssert.Contains(Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate()).Message, "store path");
    }

    [TestMethod]
    public void Reference_of_wrong_length_is_rejected()
    {
        var p = Fixtures.PathInfoWithoutNarInfo;
        p.References[0] = ByteString.CopyFrom(new byte[19]);
        Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate());
    }

    [TestMethod]
    public void Reference_names_must_match_references()
    {
        var p = Fixtures.PathInfoWithNarInfo;
        p.Narinfo.ReferenceNames[0] = "11111111111111111111111111111111-dummy";
        StringAssert.Contains(Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate()).Message, "does not match");
        p.Narinfo.ReferenceNames.Clear();
        StringAssert.Contains(Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate()).Message, "reference names");
    }

    [TestMethod]
    public void Nar_sha256_must_be_32_bytes()
    {
        var p = Fixtures.PathInfoWithNarInfo;
        p.Narinfo.NarSha256 = ByteString.CopyFrom(new byte[20]);
        Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate());
    }

    [TestMethod]
    public void Root_node_itself_must_be_valid()
    {
        var p = Fixtures.PathInfoWithNarInfo;
        p.Node = new Node { Symlink = new SymlinkNode { Name = Fixtures.Bytes(Fixtures.DummyName), Target = ByteString.Empty } };
        Assert.ThrowsExactly<CastoreValidationException>(() => p.Validate());
    }
}
