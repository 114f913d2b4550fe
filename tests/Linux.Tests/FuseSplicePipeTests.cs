using CastoreFs.Core.Tests;
using CastoreFs.Platforms.Linux;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Linux.Tests;

/// <summary>
/// Spliced replies, sent to a regular file in place of /dev/fuse (splice(2) takes any file as its output),
/// so that exactly what the device would get can be read back.
/// </summary>
[TestClass]
public sealed class FuseSplicePipeTests
{
    private static readonly byte[] Header = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];

    [TestMethod]
    public void A_reply_is_its_header_then_the_file_range_at_any_offset()
    {
        using var dir = new TempDirectory();
        var data = RandomBytes(300 * 1024, seed: 4);
        using var source = Source(dir, data);
        using var pipe = Pipe();
        using var device = File.OpenHandle(dir.Combine("device"), FileMode.CreateNew, FileAccess.Write);

        Assert.IsTrue(pipe.TrySend(Fd(device), Header, source, 4096 + 100, 200 * 1024, new byte[64 * 1024], out int error));
        Assert.AreEqual(0, error);
        Assert.IsTrue(File.ReadAllBytes(dir.Combine("device")).AsSpan().SequenceEqual([.. Header, .. data.AsSpan(4196, 200 * 1024)]));
    }

    [TestMethod]
    public void A_range_the_file_cannot_fill_sends_nothing_and_leaves_the_pipe_empty_for_the_next_reply()
    {
        using var dir = new TempDirectory();
        var data = RandomBytes(300 * 1024, seed: 5);
        using var source = Source(dir, data);
        using var pipe = Pipe();
        using var device = File.OpenHandle(dir.Combine("device"), FileMode.CreateNew, FileAccess.Write);
        var scratch = new byte[64 * 1024];

        Assert.IsFalse(pipe.TrySend(Fd(device), Header, source, 200 * 1024, 200 * 1024, scratch, out _), "the file ends 100 KiB into the range");
        Assert.IsFalse(pipe.TrySend(Fd(device), Header, source, 0, (pipe.Slots + 1) * 4096, scratch, out _), "more pages than the pipe holds");
        Assert.AreEqual(0L, new FileInfo(dir.Combine("device")).Length, "nothing reached the device");

        Assert.IsTrue(pipe.TrySend(Fd(device), Header, source, 0, 8192, scratch, out int error));
        Assert.AreEqual(0, error);
        Assert.IsTrue(File.ReadAllBytes(dir.Combine("device")).AsSpan().SequenceEqual([.. Header, .. data.AsSpan(0, 8192)]), "no bytes of the refused replies came before this one");
    }

    [TestMethod]
    public void A_device_that_refuses_the_reply_reports_its_errno_and_the_pipe_is_emptied()
    {
        using var dir = new TempDirectory();
        var data = RandomBytes(64 * 1024, seed: 6);
        using var source = Source(dir, data);
        using var pipe = Pipe();
        using var readOnly = File.OpenHandle(dir.Combine("source"), FileMode.Open, FileAccess.Read);
        var scratch = new byte[64 * 1024];

        Assert.IsTrue(pipe.TrySend(Fd(readOnly), Header, source, 0, 4096, scratch, out int error), "the reply was gathered and handed to the device");
        Assert.AreEqual(9, error, "EBADF: not open for writing");

        using var device = File.OpenHandle(dir.Combine("device"), FileMode.CreateNew, FileAccess.Write);
        Assert.IsTrue(pipe.TrySend(Fd(device), Header, source, 4096, 4096, scratch, out error));
        Assert.AreEqual(0, error);
        Assert.IsTrue(File.ReadAllBytes(dir.Combine("device")).AsSpan().SequenceEqual([.. Header, .. data.AsSpan(4096, 4096)]));
    }

    private static FuseSplicePipe Pipe()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("splice(2) is Linux's");
        }

        var pipe = FuseSplicePipe.TryCreate();
        Assert.IsNotNull(pipe, "pipe2 failed");
        Assert.IsGreaterThanOrEqualTo(256, pipe.Slots, "every Linux allows pipes of 1 MiB (pipe-max-size) without privilege");
        return pipe;
    }

    private static SafeFileHandle Source(TempDirectory dir, byte[] data)
    {
        File.WriteAllBytes(dir.Combine("source"), data);
        return File.OpenHandle(dir.Combine("source"));
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
