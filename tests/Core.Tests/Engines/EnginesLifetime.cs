namespace CastoreFs.Core.Tests.Engines;

/// <summary>Stops the shared engines once every test has run; the test host may not wait for exit handlers.</summary>
[TestClass]
public static class EnginesLifetime
{
    [AssemblyCleanup]
    public static void StopEngines() => SharedEngines.StopIfStarted();
}
