namespace CastoreFs.Core.IO;

/// <summary>Creates files in folders made only when first needed (a blob store's 256 prefix folders).</summary>
internal static class FolderOnDemand
{
    /// <summary>
    /// Runs <paramref name="create"/>, which makes something in <paramref name="folder"/>, and once more after
    /// making the folder if it was missing. Both exceptions mean a missing folder: off Windows .NET tells one
    /// from the other by looking at the folder after the failed call, so a thread that met the folder missing
    /// while another made it sees FileNotFoundException.
    /// </summary>
    public static T Create<T>(string folder, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            System.IO.Directory.CreateDirectory(folder);
            return create();
        }
    }
}
