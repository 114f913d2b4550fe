using System.Diagnostics;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// A Debian guest kernel unpacked by .ci/install-deps, and a busybox initramfs for it whose /init runs
/// the commands it reads on the serial console. Inconclusive, with the reason, where QEMU, busybox or
/// the kernel is missing.
/// </summary>
internal sealed class GuestKernel
{
    /// <summary>6.1: virtio-fs and fuse are modules, loaded in this order; one request queue.</summary>
    private static readonly string[] Modules61 =
    [
        "drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_pci_legacy_dev",
        "drivers/virtio/virtio_pci_modern_dev", "drivers/virtio/virtio_pci", "fs/fuse/fuse", "fs/fuse/virtiofs",
    ];

    private static readonly Lock BuildLock = new();

    private GuestKernel(string series, string image, string initrd)
    {
        Series = series;
        Image = image;
        Initrd = initrd;
    }

    public string Series { get; }

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
                BuildInitrd(Path.Combine(Root, series, "lib", "modules", release, "kernel"), initrd);
            }
        }

        return new GuestKernel(series, image, initrd);
    }

    private static void BuildInitrd(string modules, string output)
    {
        var tree = Directory.CreateTempSubdirectory("castorefs-initrd-").FullName;
        try
        {
            foreach (var dir in new[] { "bin", "lib/modules", "proc", "sys", "dev", "mnt", "tmp" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(tree, dir));
            }

            File.Copy("/bin/busybox", Path.Combine(tree, "bin", "busybox"));
            foreach (var module in Modules61)
            {
                var ko = Path.Combine(modules, module + ".ko");
                if (File.Exists(ko))
                {
                    File.Copy(ko, Path.Combine(tree, "lib", "modules", Path.GetFileName(ko)));
                }
            }

            // Modules that are built in (6.12) are simply not there: the [ -f ] guard skips them.
            File.WriteAllText(Path.Combine(tree, "init"), """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev
                for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fuse virtiofs; do
                  [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
                done
                stty -echo
                echo GUEST-READY
                while IFS= read -r line; do eval "$line"; done
                poweroff -f
                """.Replace("\r", string.Empty, StringComparison.Ordinal));
            File.SetUnixFileMode(Path.Combine(tree, "init"), (UnixFileMode)0b111_101_101);
            var pack = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"find . | cpio -o -H newc 2>/dev/null | gzip -1 > '{output}.part' && mv '{output}.part' '{output}'"]) { WorkingDirectory = tree })!;
            pack.WaitForExit();
            Assert.AreEqual(0, pack.ExitCode, "packing the initramfs");
        }
        finally
        {
            System.IO.Directory.Delete(tree, recursive: true);
        }
    }
}
