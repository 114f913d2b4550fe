using CastoreFs.Core.Import;
using CastoreFs.Core.Services;
using CastoreFs.Core.Tests;

namespace CastoreFs.Linux.Tests.Stress;

/// <summary>A folder imported into an embedded store of its own, and every file of it with its path.</summary>
internal sealed class ImportedTree : IDisposable
{
    private readonly TempDirectory _directory = new();

    private ImportedTree(string source)
    {
        Source = Path.GetFullPath(source);
        using (var store = CastoreStore.Open(StorePath))
        {
            BaseName = new PathImporter(store).ImportAsync(Source).GetAwaiter().GetResult().StorePath.BaseName;
        }

        Files = RegularFiles(Source);
    }

    /// <summary>The folder that was imported.</summary>
    public string Source { get; }

    /// <summary>The embedded store's folder.</summary>
    public string StorePath => _directory.Combine("store");

    /// <summary>The store path's basename: where the tree is below a mount's root.</summary>
    public string BaseName { get; }

    /// <summary>Regular files, relative to the tree's root.</summary>
    public IReadOnlyList<string> Files { get; }

    public static ImportedTree Of(string source) => new(source);

    /// <summary>The regular files below <paramref name="root"/>, relative to it, without following symlinks (as an import does not).</summary>
    public static IReadOnlyList<string> RegularFiles(string root)
    {
        var files = new List<string>();
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (pending.TryPop(out var directory))
        {
            foreach (var entry in directory.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (entry.LinkTarget is not null)
                {
                    continue;
                }

                if (entry is DirectoryInfo subdirectory)
                {
                    pending.Push(subdirectory);
                }
                else
                {
                    files.Add(Path.GetRelativePath(root, entry.FullName));
                }
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>A generated tree: many small files, some sizes around page and group boundaries, and a few of several MiB.</summary>
    public static ImportedTree Generated(string folder, int smallFiles, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < smallFiles; i++)
        {
            var dir = Path.Combine(folder, $"d{i % 7}", $"e{i % 3}");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, $"f{i:0000}"), Bytes(random, random.Next(0, 3) == 0 ? random.Next(0, 300_000) : random.Next(0, 9000)));
        }

        foreach (int size in new[] { 4095, 4096, 4097, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (9 << 20) + 5, 12 << 20 })
        {
            File.WriteAllBytes(Path.Combine(folder, $"size-{size}"), Bytes(random, size));
        }

        return new ImportedTree(folder);
    }

    public void Dispose() => _directory.Dispose();

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
