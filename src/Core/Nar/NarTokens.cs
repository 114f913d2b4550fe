namespace CastoreFs.Core.Nar;

internal static class NarTokens
{
    public const string Magic = "nix-archive-1";
    public const string Open = "(";
    public const string Close = ")";
    public const string Type = "type";
    public const string Regular = "regular";
    public const string Symlink = "symlink";
    public const string Directory = "directory";
    public const string Executable = "executable";
    public const string Contents = "contents";
    public const string Target = "target";
    public const string Entry = "entry";
    public const string Name = "name";
    public const string Node = "node";
}
