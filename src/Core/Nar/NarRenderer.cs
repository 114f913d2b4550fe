using CastoreFs.Core.Digests;
using CastoreFs.Core.Model;
using CastoreFs.Core.Services.Blobs;
using CastoreFs.Core.Services.Directories;
using Snix.Castore.V1;

namespace CastoreFs.Core.Nar;

/// <summary>Renders a castore node as a NAR, byte for byte what <c>nix-store --dump</c> writes.</summary>
public sealed class NarRenderer(IBlobService blobs, IDirectoryService directories)
{
    private const int CopyBufferSize = 1024 * 1024;

    /// <summary>
    /// Writes the NAR of <paramref name="node"/>. The walk keeps its open directories on a stack of its own,
    /// not the call stack, so a tree of any depth renders (a chain of 7,000 directories once crashed the server).
    /// </summary>
    public async Task RenderAsync(Node node, Stream output, CancellationToken ct = default)
    {
        var writer = new NarWriter(output);
        await writer.WriteHeaderAsync(ct).ConfigureAwait(false);

        // Each directory being written: its entries in name order, and where the walk is among them.
        var open = new Stack<IEnumerator<Node>>();
        await BeginNodeAsync(writer, node, open, ct).ConfigureAwait(false);
        while (open.TryPeek(out var entries))
        {
            if (entries.MoveNext())
            {
                var entry = entries.Current;
                await writer.BeginEntryAsync(NodeRules.NameOf(entry).Memory, ct).ConfigureAwait(false);
                if (!await BeginNodeAsync(writer, entry, open, ct).ConfigureAwait(false))
                {
                    await writer.EndEntryAsync(ct).ConfigureAwait(false);
                }

                continue;
            }

            open.Pop().Dispose();
            await writer.EndDirectoryAsync(ct).ConfigureAwait(false);
            if (open.Count > 0)
            {
                await writer.EndEntryAsync(ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The NAR's size and SHA-256, as a PathInfo's narinfo records them.</summary>
    public async Task<(ulong Size, byte[] Sha256)> CalculateAsync(Node node, CancellationToken ct = default)
    {
        using var sink = new NarHashingStream();
        await RenderAsync(node, sink, ct).ConfigureAwait(false);
        return ((ulong)sink.BytesWritten, sink.Sha256());
    }

    /// <summary>Writes a file or symlink whole, or opens a directory and pushes its entries; true for a directory.</summary>
    private async Task<bool> BeginNodeAsync(NarWriter writer, Node node, Stack<IEnumerator<Node>> open, CancellationToken ct)
    {
        switch (node.NodeCase)
        {
            case Node.NodeOneofCase.File:
                await RenderFileAsync(writer, node.File, ct).ConfigureAwait(false);
                return false;
            case Node.NodeOneofCase.Symlink:
                await writer.WriteSymlinkAsync(node.Symlink.Target.Memory, ct).ConfigureAwait(false);
                return false;
            case Node.NodeOneofCase.Directory:
                var digest = B3Digest.FromProto(node.Directory.Digest);
                var directory = await directories.GetAsync(digest, ct).ConfigureAwait(false)
                    ?? throw new DirectoryNotFoundException($"directory {digest.ToHex()} ('{NodeRules.Display(node.Directory.Name.Span)}') is not in the store");
                await writer.BeginDirectoryAsync(ct).ConfigureAwait(false);
                open.Push(directory.EntriesInNameOrder().GetEnumerator());
                return true;
            default:
                throw new CastoreValidationException("node is not set");
        }
    }

    private async Task RenderFileAsync(NarWriter writer, FileNode file, CancellationToken ct)
    {
        var digest = B3Digest.FromProto(file.Digest);
        await using var blob = await blobs.OpenReadAsync(digest, ct).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"blob {digest.ToHex()} ('{NodeRules.Display(file.Name.Span)}') is not in the store");
        if (blob.CanSeek && (ulong)blob.Length != file.Size)
        {
            throw new InvalidDataException($"blob {digest.ToHex()} ('{NodeRules.Display(file.Name.Span)}') has {blob.Length} bytes, its file node says {file.Size}");
        }

        await writer.BeginRegularAsync(file.Executable, file.Size, ct).ConfigureAwait(false);
        var buffer = new byte[(int)Math.Min(CopyBufferSize, Math.Max(file.Size, 1))];
        ulong copied = 0;
        while (copied < file.Size)
        {
            int n = await blob.ReadAsync(buffer.AsMemory(0, (int)Math.Min((ulong)buffer.Length, file.Size - copied)), ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            await writer.WriteContentsAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            copied += (ulong)n;
        }

        if (copied != file.Size || await blob.ReadAsync(buffer.AsMemory(0, 1), ct).ConfigureAwait(false) != 0)
        {
            throw new InvalidDataException($"blob {digest.ToHex()} ('{NodeRules.Display(file.Name.Span)}') does not have the {file.Size} bytes its file node says");
        }

        await writer.EndRegularAsync(file.Size, ct).ConfigureAwait(false);
    }
}
