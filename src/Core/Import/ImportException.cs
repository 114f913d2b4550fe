namespace CastoreFs.Core.Import;

/// <summary>Input that cannot be imported, named by its path; nothing was registered.</summary>
public sealed class ImportException(string message, Exception? inner = null) : IOException(message, inner);
