namespace CastoreFs.Core.Model;

/// <summary>Data that breaks a castore rule: a bad name, digest, order, size or reference.</summary>
public sealed class CastoreValidationException(string message) : FormatException(message);
