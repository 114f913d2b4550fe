using CastoreFs.Core.Digests;
using CastoreFs.Core.IO;
using CastoreFs.Core.IO.Interop;
using Microsoft.Win32.SafeHandles;

namespace CastoreFs.Core.Services.Blobs;

/// <summary>
/// A blob's bytes written to a file that is not yet under the blob's name, and not yet durable: it is
/// given the name only after a flush of the filesystem, so no crash leaves a partial file under a digest.
/// </summary>
internal abstract class UnplacedBlob(string finalPath) : IDisposable
{
    public string FinalPath { get; } = finalPath;

    /// <summary>Whether it holds a file descriptor until it is placed or disposed.</summary>
    public abstract bool HoldsDescriptor { get; }

    /// <summary>
    /// Writes <paramref name="data"/>, the blob <paramref name="digest"/>, beside <paramref name="finalPath"/>:
    /// in an unnamed file in its folder (held open by <paramref name="folders"/>) where the filesystem
    /// offers them, else in a temp file named beside it. Null when a file has the name already: named by
    /// the same digest, it holds the same bytes.
    /// </summary>
    public static UnplacedBlob? Write(EmbeddedBlobFolders folders, B3Digest digest, string finalPath, ReadOnlySpan<byte> data, ref bool unnamedRefused)
    {
        if (!unnamedRefused)
        {
            var folder = folders.Of(digest);
            var name = Path.GetFileName(finalPath);
            if (LinuxFolder.Contains(folder, name))
            {
                return null;
            }

            if (LinuxUnnamedFile.TryCreate(folder, finalPath) is { } unnamed)
            {
                return Unnamed.Write(finalPath, folder, name, unnamed, data);
            }

            unnamedRefused = true;
        }

        return File.Exists(finalPath) ? null : new Named(finalPath, EmbeddedBlobWriter.WriteTempBeside(finalPath, data));
    }

    /// <summary>A blob written to <paramref name="tempPath"/>, renamed to <paramref name="finalPath"/> (its folder made if missing) once durable.</summary>
    public static UnplacedBlob Renamed(string finalPath, string tempPath) => new Named(finalPath, tempPath);

    /// <summary>Flushes the filesystem that holds it, and with it every other blob written there.</summary>
    public abstract void FlushFileSystem();

    /// <summary>Puts it under its final name once durable; a file there already holds the same bytes.</summary>
    public abstract void Place();

    /// <summary>Lets go of it; one never placed is gone.</summary>
    public abstract void Dispose();

    /// <summary>
    /// An O_TMPFILE linked into place: it costs the folder one entry, where a named temp file cost an entry
    /// made, a rename (two lookups and an entry removed) and .NET's lstat before it.
    /// </summary>
    private sealed class Unnamed(string finalPath, SafeFileHandle folder, string name, SafeFileHandle file) : UnplacedBlob(finalPath)
    {
        public override bool HoldsDescriptor => true;

        public static Unnamed Write(string finalPath, SafeFileHandle folder, string name, SafeFileHandle file, ReadOnlySpan<byte> data)
        {
            try
            {
                RandomAccess.Write(file, data, 0);
                return new Unnamed(finalPath, folder, name, file);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public override void FlushFileSystem() => FileSystemSync.Flush(file, FinalPath);

        public override void Place() => LinuxUnnamedFile.Name(file, folder, name, FinalPath);

        public override void Dispose() => file.Dispose();
    }

    /// <summary>A named temp file (beside the final name, or the store's temp folder for a large blob), renamed into place.</summary>
    private sealed class Named(string finalPath, string tempPath) : UnplacedBlob(finalPath)
    {
        private bool _placed;

        public override bool HoldsDescriptor => false;

        public override void FlushFileSystem() => FileSystemSync.Flush(tempPath);

        public override void Place()
        {
            FolderOnDemand.Create(Path.GetDirectoryName(FinalPath)!, () =>
            {
                File.Move(tempPath, FinalPath, overwrite: true);
                return _placed = true;
            });
        }

        public override void Dispose()
        {
            if (!_placed)
            {
                File.Delete(tempPath);
            }
        }
    }
}
