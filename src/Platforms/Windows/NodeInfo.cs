using CastoreFs.Core.Filesystem;

namespace CastoreFs.Platforms.Windows;

/// <summary>A node reached by a path of the drive, and the file ID that path gives it.</summary>
internal readonly record struct NodeInfo(TreeNode Node, ulong FileId);
