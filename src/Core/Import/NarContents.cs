using Snix.Castore.V1;

namespace CastoreFs.Core.Import;

/// <summary>What a NAR put into a store holds: its root (unnamed) and the NAR's size and SHA-256.</summary>
public sealed record NarContents(Node Root, ulong NarSize, byte[] NarSha256);
