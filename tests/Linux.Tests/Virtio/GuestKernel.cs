using System.Diagnostics;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// A Debian guest kernel unpacked by .ci/install-deps, and the busybox initramfs tests/guest/make-initrd
/// builds for it, whose /init runs the commands it reads on the serial console. Inconclusive, with the
/// reason, where QEMU, busybox or the kernel is missing.
/// </summary>
internal sealed class GuestKernel
{
    private static readonly Lock BuildLock = new();

    private GuestKernel(string image, string initrd)
    {
        Image = image;
        Initrd = initrd;
    }

    public string Image { get; }

    public string Initrd { get; }

    public static string Root => Environment.GetEnvironmentVariable("CASTOREFS_GUEST_KERNELS") ?? "/var/cache/castorefs/guest-kernels";

    /// <summary>The kernel of <paramref name="series"/> ("6.1" or "6.12") with its initramfs, built once per run.</summary>
    public static GuestKernel Require(string series)
    {
        foreach (var tool in new[] { "/usr/bin/qemu-system-x86_64", "/bin/busybox", "/usr/bin/cpio" })
        {
            if (!File.Exists(tool))
            {
                Assert.Inconclusive($"{tool} is missing: the virtiofs guest tests need qemu-system-x86, busybox-static and cpio (sudo .ci/install-deps)");
            }
        }

        var boot = Path.Combine(Root, series, "boot");
        var image = System.IO.Directory.Exists(boot) ? System.IO.Directory.GetFiles(boot, "vmlinuz-*").Order(StringComparer.Ordinal).LastOrDefault() : null;
        if (image is null)
        {
            Assert.Inconclusive($"no guest kernel {series} under {Root}: sudo .ci/install-deps unpacks Debian's");
        }

        var release = Path.GetFileName(image)["vmlinuz-".Length..];
        var initrd = Path.Combine(Path.GetTempPath(), $"castorefs-guest-{release}-{Environment.ProcessId}.cpio.gz");
        lock (BuildLock)
        {
            if (!File.Exists(initrd))
            {
                BuildInitrd(Path.Combine(Root, series), initrd);
            }
        }

        return new GuestKernel(image, initrd);
    }

    /// <summary>tests/guest/make-initrd, copied beside the tests: the benchmark builds its guest the same way.</summary>
    private static void BuildInitrd(string kernelRoot, string output)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "guest", "make-initrd");
        var pack = Process.Start(new ProcessStartInfo(script, [kernelRoot, output]) { RedirectStandardError = true })!;
        var errors = pack.StandardError.ReadToEnd();
        pack.WaitForExit();
        Assert.AreEqual(0, pack.ExitCode, "building the initramfs: " + errors);
    }
}
