using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CastoreFs.Core.Tests.Nix;

/// <summary>
/// Debian's nginx on a loopback port of its own, serving a folder as a binary cache is served, with
/// <c>/fail/</c> answering 500 to everything; every request is written to <see cref="AccessLog"/>.
/// </summary>
internal sealed class Nginx : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private Nginx(string root, string dir)
    {
        _dir = dir;
        Port = FreePort();
        Directory.CreateDirectory(Path.Combine(dir, "temp"));
        var config = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log warn;
            events { worker_connections 64; }
            http {
              access_log {{dir}}/access.log;
              client_body_temp_path {{dir}}/temp;
              proxy_temp_path {{dir}}/temp;
              fastcgi_temp_path {{dir}}/temp;
              uwsgi_temp_path {{dir}}/temp;
              scgi_temp_path {{dir}}/temp;
              keepalive_requests 10000;
              server {
                listen 127.0.0.1:{{Port}};
                root {{root}};
                location /fail/ { return 500; }
              }
            }
            """);
        var start = new ProcessStartInfo(Tools.Find("nginx") ?? "/usr/sbin/nginx") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(config);
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add(Path.Combine(dir, "error.log"));
        _process = Process.Start(start)!;
        WaitUntilListening();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string AccessLog => Path.Combine(_dir, "access.log");

    public static Nginx StartOrInconclusive(string root, string dir)
    {
        if (Tools.Find("nginx") is null && !File.Exists("/usr/sbin/nginx"))
        {
            Assert.Inconclusive("nginx is not installed (apt-get install nginx); .ci/run installs it");
        }

        return new Nginx(root, dir);
    }

    /// <summary>The paths requested so far (nginx writes each line when the request ends).</summary>
    public IReadOnlyList<string> Requests()
    {
        if (!File.Exists(AccessLog))
        {
            return [];
        }

        using var stream = new FileStream(AccessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return [.. reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('"')[1].Split(' ')[1])];
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WaitUntilListening()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited ({_process.ExitCode}): {_process.StandardError.ReadToEnd()} {File.ReadAllText(Path.Combine(_dir, "error.log"))}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException("nginx did not listen within 20 s");
    }
}
