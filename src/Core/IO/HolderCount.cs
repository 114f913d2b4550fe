namespace CastoreFs.Core.IO;

/// <summary>
/// How many hold a shared resource (an open blob, a guest memory table), starting with its maker. A new
/// holder can join only while someone still holds it, so the last release is final and its owner can
/// free the resource then. Kept as a field and used in place, never copied.
/// </summary>
public struct HolderCount
{
    private int _holders;

    public HolderCount() => _holders = 1;

    /// <summary>One more holder; false once the last one has released it.</summary>
    public bool TryHold()
    {
        int holders = Volatile.Read(ref _holders);
        while (holders > 0)
        {
            int seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    /// <summary>Ends one holder's use; true for the last, whose caller frees the resource.</summary>
    public bool Release() => Interlocked.Decrement(ref _holders) == 0;
}
