namespace CastoreFs.Core.Hosting;

/// <summary>
/// A transport serving the tree to a kernel: /dev/fuse, a vhost-user socket for guests, a WinFsp drive.
/// It is started by its own factory, is live once its peer can use it, ends by itself when that peer goes
/// (an unmount, a front-end that disconnects), and is stopped by disposing it.
/// </summary>
public interface IMountTransport : IDisposable
{
    /// <summary>Completes once the transport serves (the kernel's INIT came, the socket listens).</summary>
    Task Live { get; }

    /// <summary>Completes when the transport has ended by itself.</summary>
    Task Completion { get; }

    /// <summary>One line for the user once live: what is served where, and how to stop it.</summary>
    string Report { get; }
}
