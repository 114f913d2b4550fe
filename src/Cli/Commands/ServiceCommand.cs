using System.CommandLine;
using System.ServiceProcess;
using CastoreFs.Cli.Windows;

namespace CastoreFs.Cli.Commands;

/// <summary>The Windows service and what the installer runs; on Windows only.</summary>
internal static class ServiceCommand
{
    public static Command Create()
    {
        var command = new Command("service", @"Run as the Windows service (installed by the MSI): mount the store with the settings in HKLM\SOFTWARE\castorefs, logging to %ProgramData%\castorefs\service.log.");
        command.SetAction((_, _) => CommandErrors.RunAsync(() =>
        {
            if (!OperatingSystem.IsWindows())
            {
                throw new InvalidOperationException("service runs on Windows only");
            }

            ServiceBase.Run(new MountService());
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary><c>castorefs machine-path add|remove FOLDER</c>: the installer's custom actions, hidden from help.</summary>
    public static Command CreateMachinePath()
    {
        var action = new Argument<string>("ACTION") { Description = "add or remove" };
        var folder = new Argument<string>("FOLDER");
        var command = new Command("machine-path", "Add a folder to the machine's PATH, or remove it (the installer runs this)") { action, folder };
        command.Hidden = true;
        command.SetAction((parse, _) => CommandErrors.RunAsync(() =>
        {
            if (!OperatingSystem.IsWindows())
            {
                throw new InvalidOperationException("machine-path edits the Windows registry");
            }

            switch (parse.GetValue(action))
            {
                case "add":
                    MachinePath.Add(parse.GetValue(folder)!);
                    break;
                case "remove":
                    MachinePath.Remove(parse.GetValue(folder)!);
                    break;
                default:
                    throw new ArgumentException("ACTION is add or remove");
            }

            return Task.FromResult(0);
        }));
        return command;
    }
}
