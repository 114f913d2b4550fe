using System.Diagnostics;
using System.Text;

namespace CastoreFs.Linux.Tests.Virtio;

/// <summary>
/// A QEMU guest (TCG: KVM does not boot guests on these machines) with a vhost-user-fs device on a
/// socket, driven over its serial console: each command runs in the guest's shell, and its output and
/// exit status come back.
/// </summary>
internal sealed class GuestVm : IDisposable
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _qemu;
    private readonly StringBuilder _console = new();
    private readonly Queue<string> _lines = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private int _commands;

    private GuestVm(Process qemu)
    {
        _qemu = qemu;
        qemu.OutputDataReceived += (_, e) => Receive(e.Data);
        qemu.ErrorDataReceived += (_, e) => Receive(e.Data is null ? null : "qemu: " + e.Data);
        qemu.BeginOutputReadLine();
        qemu.BeginErrorReadLine();
    }

    /// <summary>Everything the guest and QEMU printed, for a failure message.</summary>
    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    public bool HasExited => _qemu.HasExited;

    /// <summary>Boots <paramref name="kernel"/> with the device on <paramref name="socket"/> and waits for its shell.</summary>
    public static GuestVm Boot(GuestKernel kernel, string socket, int cpus = 1, int requestQueues = 1, string tag = "store")
    {
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "-accel", "tcg", "-cpu", "max", "-smp", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "512",
            "-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-kernel", kernel.Image, "-initrd", kernel.Initrd, "-append", "console=ttyS0 panic=-1 quiet loglevel=1",
            "-object", "memory-backend-memfd,id=mem,size=512M,share=on", "-numa", "node,memdev=mem",
            "-chardev", $"socket,id=fs,path={socket}",
            "-device", $"vhost-user-fs-pci,chardev=fs,tag={tag},num-request-queues={requestQueues}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var vm = new GuestVm(Process.Start(start)!);
        vm.WaitFor("GUEST-READY", BootTimeout);
        return vm;
    }

    /// <summary>Runs a shell command in the guest: its output lines (stderr too) and exit status.</summary>
    public (int Status, string Output) Run(string command)
    {
        string end = $"@@END{++_commands}";
        // The marker starts a line of its own even after output without a final newline.
        _qemu.StandardInput.Write($"{command} 2>&1; printf '\\n{end} %d\\n' $?\n");
        _qemu.StandardInput.Flush();
        var output = new StringBuilder();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var line = Next(CommandTimeout - deadline.Elapsed, $"'{command}' did not finish");
            if (line.StartsWith(end + " ", StringComparison.Ordinal))
            {
                return (int.Parse(line[(end.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture), output.ToString().TrimEnd('\n'));
            }

            output.Append(line).Append('\n');
        }
    }

    /// <summary>Runs a command that must succeed; returns its output.</summary>
    public string Check(string command)
    {
        var (status, output) = Run(command);
        Assert.AreEqual(0, status, $"guest: {command}\n{output}");
        return output;
    }

    /// <summary>Reboots the guest (QEMU stays, the device is reset) and waits for its shell again.</summary>
    public void Reboot()
    {
        _qemu.StandardInput.Write("reboot -f\n");
        _qemu.StandardInput.Flush();
        WaitFor("GUEST-READY", BootTimeout);
    }

    /// <summary>Powers the guest off; QEMU exits.</summary>
    public void PowerOff()
    {
        _qemu.StandardInput.Write("poweroff -f\n");
        _qemu.StandardInput.Flush();
        Assert.IsTrue(_qemu.WaitForExit(60_000), "QEMU did not exit after poweroff\n" + Console);
    }

    public void Dispose()
    {
        if (!_qemu.HasExited)
        {
            _qemu.Kill();
            _qemu.WaitForExit();
        }

        _qemu.Dispose();
        _arrived.Dispose();
    }

    private void WaitFor(string marker, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Next(timeout - deadline.Elapsed, $"the guest never printed {marker}").Contains(marker, StringComparison.Ordinal))
        {
        }
    }

    private string Next(TimeSpan timeout, string what)
    {
        if (timeout <= TimeSpan.Zero || !_arrived.Wait(timeout))
        {
            throw new AssertFailedException($"{what} within the time allowed (TCG)\n--- console ---\n{Console}");
        }

        lock (_lines)
        {
            return _lines.Dequeue();
        }
    }

    private void Receive(string? line)
    {
        if (line is null)
        {
            return;
        }

        line = line.Replace("\r", string.Empty, StringComparison.Ordinal);
        lock (_console)
        {
            _console.Append(line).Append('\n');
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
        }

        _arrived.Release();
    }
}
