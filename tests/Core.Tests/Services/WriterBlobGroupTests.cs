using CastoreFs.Core.Services.Blobs;

namespace CastoreFs.Core.Tests.Services;

/// <summary>A group for a store with no cheaper way (each blob committed on its own).</summary>
[TestClass]
public sealed class WriterBlobGroupTests
{
    [TestMethod]
    public async Task A_blob_added_under_another_digest_is_refused_and_not_stored_under_it()
    {
        IBlobService blobs = new MemoryBlobService();
        await using var group = blobs.OpenGroup();
        var refused = await Assert.ThrowsExactlyAsync<BlobVerificationException>(() => group.AddAsync(Fixtures.BlobADigest, Fixtures.BlobB));
        Assert.AreEqual(Fixtures.BlobADigest, refused.Expected);
        await group.CommitAsync();
        Assert.IsNull(await blobs.StatAsync(Fixtures.BlobADigest));
    }
}
