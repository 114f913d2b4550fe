namespace CastoreFs.Core.Nar;

/// <summary>A NAR that is truncated, malformed or holds something castore cannot.</summary>
public sealed class NarFormatException(string message) : FormatException(message);
