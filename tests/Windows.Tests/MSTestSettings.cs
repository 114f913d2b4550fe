// The wine tests take a core each; two classes at a time is what a 2-core machine serves well.
[assembly: Microsoft.VisualStudio.TestTools.UnitTesting.Parallelize(Scope = Microsoft.VisualStudio.TestTools.UnitTesting.ExecutionScope.ClassLevel, Workers = 2)]

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
