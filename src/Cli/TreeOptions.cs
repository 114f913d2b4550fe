using System.CommandLine;
using CastoreFs.Core.Digests;
using CastoreFs.Core.Filesystem;
using CastoreFs.Core.Services;
using Microsoft.Extensions.Logging;

namespace CastoreFs.Cli;

/// <summary>What every command that serves the tree takes beside the store: which tree, and how much to log.</summary>
internal sealed class TreeOptions
{
    public Option<bool> ListRoot { get; } = new("--list-root", "-l") { Description = "Let ls list the store's roots (expensive on a large store)" };

    public Option<string?> Root { get; } = new("--root") { Description = "Serve this directory (BLAKE3 digest, hex or blake3-<base64>) instead of the store's path infos" };

    public Option<LogLevel> LogLevel { get; } = new("--log-level") { Description = "Warning shows each failed request; Debug shows every request", DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning };

    public void AddTo(Command command)
    {
        command.Options.Add(ListRoot);
        command.Options.Add(Root);
        command.Options.Add(LogLevel);
    }

    public Task<CastoreFileSystem> OpenAsync(ParseResult parse, CastoreStore store, ILoggerFactory logging, CancellationToken ct, bool dropBehindLargeReads = true)
    {
        B3Digest? rootDigest = null;
        if (parse.GetValue(Root) is { } text)
        {
            rootDigest = B3Digest.TryParse(text, out var parsed) ? parsed : throw new FormatException($"--root: '{text}' is not a BLAKE3 digest");
        }

        return CastoreFileSystem.OpenAsync(
            store, new FileSystemOptions { ListRoot = parse.GetValue(ListRoot), RootDirectory = rootDigest, DropBehindLargeReads = dropBehindLargeReads }, logging.CreateLogger("castorefs.fs"), ct);
    }
}
