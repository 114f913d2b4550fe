using CastoreFs.Core.IO;

namespace CastoreFs.Core.Tests.IO;

[TestClass]
public sealed class FolderOnDemandTests
{
    [TestMethod]
    public void A_folder_another_thread_made_after_the_failed_call_is_taken_as_missing_and_the_call_retried()
    {
        // What .NET throws off Windows when a folder was missing at the call and present when it looked.
        using var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, "91");
        int calls = 0;
        var result = FolderOnDemand.Create(folder, () =>
        {
            calls++;
            return System.IO.Directory.Exists(folder) ? "made" : throw new FileNotFoundException("Could not find file", Path.Combine(folder, "tmp-1"));
        });
        Assert.AreEqual("made", result);
        Assert.AreEqual(2, calls);
    }

    [TestMethod]
    public void A_missing_folder_is_made_and_the_file_created_in_it()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "a9", "tmp-1");
        using (FolderOnDemand.Create(Path.GetDirectoryName(path)!, () => File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write)))
        {
        }

        Assert.IsTrue(File.Exists(path));
    }

    [TestMethod]
    public void A_file_still_missing_once_its_folder_exists_fails_after_one_retry()
    {
        using var dir = new TempDirectory();
        int calls = 0;
        Assert.ThrowsExactly<FileNotFoundException>(() => FolderOnDemand.Create(dir.Path, () =>
        {
            calls++;
            return File.OpenHandle(Path.Combine(dir.Path, "absent"), FileMode.Open);
        }));
        Assert.AreEqual(2, calls);
    }
}
