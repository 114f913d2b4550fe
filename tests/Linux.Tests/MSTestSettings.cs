// Mounts are independent, but two at a time is all a 2-core machine serves well.
[assembly: Microsoft.VisualStudio.TestTools.UnitTesting.Parallelize(Scope = Microsoft.VisualStudio.TestTools.UnitTesting.ExecutionScope.ClassLevel, Workers = 2)]

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
