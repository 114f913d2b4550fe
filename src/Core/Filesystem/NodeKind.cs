namespace CastoreFs.Core.Filesystem;

public enum NodeKind : byte
{
    Directory,
    File,
    Symlink,
}
