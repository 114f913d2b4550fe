namespace CastoreFs.Platforms.Windows;

/// <summary>The one security descriptor every node of the drive has.</summary>
internal static class SecurityDescriptors
{
    /// <summary>
    /// <c>O:BAG:BAD:P(A;;0x1200a9;;;WD)</c> in self-relative form: owned by Administrators, and a protected
    /// DACL that lets Everyone read, list, traverse and execute (FILE_GENERIC_READ | FILE_EXECUTE). Execute
    /// is what lets Windows run a program or load a DLL from the drive; nothing grants a write. Kept as
    /// bytes because the SDDL converters exist only on Windows.
    /// </summary>
    public static ReadOnlySpan<byte> ReadExecute =>
    [
        // SECURITY_DESCRIPTOR_RELATIVE: revision 1, control SELF_RELATIVE | DACL_PROTECTED | DACL_PRESENT,
        // owner at 20, group at 36, no SACL, DACL at 52.
        1, 0, 0x04, 0x90, 20, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 52, 0, 0, 0,

        // Owner and group: S-1-5-32-544 (BUILTIN\Administrators).
        1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0,
        1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0,

        // ACL: revision 2, 28 bytes, one ACE.
        2, 0, 28, 0, 1, 0, 0, 0,

        // ACCESS_ALLOWED_ACE, 20 bytes, mask 0x001200A9, S-1-1-0 (Everyone).
        0, 0, 20, 0, 0xA9, 0x00, 0x12, 0x00, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    ];

    /// <summary>What the descriptor grants: anything else asked for is refused.</summary>
    public const uint GrantedAccess = 0x001200A9;
}
