using CastoreFs.Core.Blake3;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Services;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Server;

namespace CastoreFs.Core.Tests.Grpc;

/// <summary>
/// A real gRPC server telling one lie about one blob to a real client: every lie ends in an error, no read
/// at any offset returns a byte the blob does not have, and the truth about other blobs is still served.
/// </summary>
[TestClass]
public sealed class LyingServerTests
{
    private const int Size = LyingServer.Size;

    public static IEnumerable<object[]> Lies() => Enum.GetValues<BlobLie>().Select(lie => new object[] { lie });

    [TestMethod]
    [DynamicData(nameof(Lies))]
    public async Task Every_lie_is_an_error_and_no_read_returns_a_wrong_byte(BlobLie lie)
    {
        using var dir = new TempDirectory();
        await using var liar = await LyingServer.StartAsync(dir, lie);
        using var client = CastoreStore.Open(liar.Url, dir.Combine("cache"));

        var whole = await Assert.ThrowsAsync<Exception>(() => client.Blobs.ReadAllAsync(liar.Digest));
        Assert.IsTrue(whole is IOException or TimeoutException or global::Grpc.Core.RpcException, $"a store failure, not {whole.GetType().Name}: {whole.Message}");

        var random = new Random(7);
        var offsets = new long[] { 0, (1 << 20) - 10, 1 << 20, LyingBlobService.FlippedAt - 5, Size - 3 }
            .Concat(Enumerable.Range(0, lie == BlobLie.NeverAnswers ? 0 : 10).Select(_ => random.NextInt64(Size)));
        int served = 0;
        foreach (long offset in offsets)
        {
            var buffer = new byte[random.Next(1, 300_000)];
            int n;
            try
            {
                await using var blob = (await client.Blobs.OpenReadAsync(liar.Digest))!;
                blob.Position = offset;
                n = await blob.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is IOException or TimeoutException or global::Grpc.Core.RpcException)
            {
                continue;
            }

            Assert.IsTrue(buffer.AsSpan(0, n).SequenceEqual(liar.Truth.AsSpan((int)offset, n)), $"{n} bytes at {offset} differ from the blob");
            served++;
        }

        Console.WriteLine($"{lie}: {served} reads served true bytes, the rest failed; the whole read failed: {whole.Message}");
        Assert.IsFalse(Directory.Exists(dir.Combine("cache")) && Directory.EnumerateFiles(dir.Combine("cache"), "*", SearchOption.AllDirectories).Any(), "nothing unverified is cached");
        CollectionAssert.AreEqual(liar.IntactBytes, await client.Blobs.ReadAllAsync(Blake3Hasher.Hash(liar.IntactBytes)), "the truth about another blob is served");
    }

    [TestMethod]
    public async Task An_honest_server_with_an_outboard_serves_random_reads_group_by_group()
    {
        using var dir = new TempDirectory();
        using var embedded = CastoreStore.Open(dir.Combine("store"));
        var data = new byte[Size];
        new Random(5).NextBytes(data);
        var digest = await embedded.Blobs.PutAsync(data);
        await using var server = await CastoreServer.StartAsync(embedded, "unix://" + dir.Combine("s.sock"));
        using var client = CastoreStore.Open(server.Address, dir.Combine("cache"));

        var stat = (await client.Blobs.StatAsync(digest, BlobDetails.Chunks | BlobDetails.Outboard))!;
        Assert.AreEqual(Outboard.Length(Size), stat.Outboard.Length, "our server sends the outboard");
        Assert.IsNotNull(Outboard.Verify(digest, Size, stat.Outboard.Span));
        await using var blob = (await client.Blobs.OpenReadAsync(digest))!;
        var random = new Random(6);
        for (int i = 0; i < 30; i++)
        {
            long offset = random.NextInt64(Size);
            var buffer = new byte[random.Next(1, 2 << 20)];
            blob.Position = offset;
            int n = await blob.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false);
            Assert.AreEqual((int)Math.Min(buffer.Length, Size - offset), n);
            Assert.IsTrue(buffer.AsSpan(0, n).SequenceEqual(data.AsSpan((int)offset, n)), $"offset {offset}");
        }

        Assert.IsFalse(Directory.Exists(dir.Combine("cache")), "with an outboard nothing is fetched whole");
    }
}
