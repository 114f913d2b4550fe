using System.Diagnostics;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;
using CastoreFs.Core.Tests.Cli;
using CastoreFs.Core.Tests.Grpc;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// A mount of a remote store that tells one lie about one file: reading it is EIO through the kernel and
/// an error from <c>castorefs cat</c>, no read at any offset returns a wrong byte, and the same mount goes
/// on serving an intact file.
/// </summary>
[TestClass]
public sealed class LyingStoreMountTests
{
    public static IEnumerable<object[]> Lies() => Enum.GetValues<BlobLie>().Select(lie => new object[] { lie });

    [TestMethod]
    [DynamicData(nameof(Lies))]
    public async Task Every_lie_is_EIO_through_the_kernel_and_intact_files_are_still_served(BlobLie lie)
    {
        TestMount.RequireFuse();
        using var dir = new TempDirectory();
        await using var liar = await LyingServer.StartAsync(dir, lie);
        using var remote = CastoreStore.Open(liar.Url, dir.Combine("cache"));
        using var mount = TestMount.Start(remote, new FileSystemOptions { StoreTimeout = TimeSpan.FromSeconds(10) });

        var (exit, output, stderr) = await RunAsync("cat", mount[LyingServer.LiedAbout]);
        Assert.AreNotEqual(0, exit, "cat of a file the store lies about fails");
        StringAssert.Contains(stderr, "Input/output error");
        Assert.IsTrue(output.AsSpan().SequenceEqual(liar.Truth.AsSpan(0, output.Length)), "what cat printed before the error is the file's own bytes");

        var random = new Random(9);
        int served = 0, failed = 0;
        using (var handle = File.OpenHandle(mount[LyingServer.LiedAbout]))
        {
            foreach (long offset in new long[] { 0, (1 << 20) - 1, LyingBlobService.FlippedAt, LyingServer.Size - 1 }.Concat(Enumerable.Range(0, lie == BlobLie.NeverAnswers ? 0 : 8).Select(_ => random.NextInt64(LyingServer.Size))))
            {
                var buffer = new byte[random.Next(1, 200_000)];
                try
                {
                    int n = RandomAccess.Read(handle, buffer, offset);
                    Assert.IsTrue(buffer.AsSpan(0, n).SequenceEqual(liar.Truth.AsSpan((int)offset, n)), $"{n} bytes at {offset} differ from the file");
                    served++;
                }
                catch (IOException)
                {
                    failed++;
                }
            }
        }

        CollectionAssert.AreEqual(liar.IntactBytes, await File.ReadAllBytesAsync(mount[LyingServer.Intact]), "the same mount serves an intact file");

        var cli = new CliRunner(dir.Combine("home"));
        var (cliExit, cliOut, cliErr) = cli.RunBytes(null, "--store", liar.Url, "cat", "/nix/store/" + LyingServer.LiedAbout);
        Assert.AreEqual(1, cliExit, "castorefs cat fails: " + cliErr);
        StringAssert.StartsWith(cliErr, "castorefs: error:");
        Assert.IsTrue(cliOut.AsSpan().SequenceEqual(liar.Truth.AsSpan(0, cliOut.Length)), "castorefs cat printed only true bytes");
        Console.WriteLine($"{lie}: {served} reads served true bytes, {failed} were EIO; castorefs cat: {cliErr.Trim()}");
    }

    private static async Task<(int Exit, byte[] Stdout, string Stderr)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        await copy;
        return (process.ExitCode, output.ToArray(), await stderr);
    }
}
