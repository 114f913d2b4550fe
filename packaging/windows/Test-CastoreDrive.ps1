<#
.SYNOPSIS
  Checks a mounted castorefs drive on a real Windows machine the way the wine tests check the test double:
  file hashes against `castorefs cat`, listings against `castorefs ls`, a symlink, a write refused, a program run.

.EXAMPLE
  castorefs import C:\some\folder          # prints /nix/store/<hash>-folder
  castorefs mount S:                        # in another console, leave it running
  .\Test-CastoreDrive.ps1 -Drive S: -StorePath /nix/store/<hash>-folder
#>
param(
    [Parameter(Mandatory)] [string] $Drive,
    [Parameter(Mandatory)] [string] $StorePath,
    [string] $Castorefs = "castorefs"
)

$ErrorActionPreference = "Stop"
$failures = 0
function Check([bool] $ok, [string] $what) {
    if ($ok) { Write-Host "ok    $what" } else { Write-Host "FAIL  $what" -ForegroundColor Red; $script:failures++ }
}

$base = $StorePath -replace '^/nix/store/', ''
$root = Join-Path "$Drive\" $base
Check (Test-Path -LiteralPath $root -PathType Container) "$root is a directory"

$volume = Get-Volume -DriveLetter $Drive.TrimEnd(':') -ErrorAction SilentlyContinue
if ($volume) { Check ($volume.FileSystemLabel -eq "castorefs") "the volume is labelled castorefs" }

# Every file's bytes equal what the store says through `castorefs cat` (compared by SHA-256).
$files = Get-ChildItem -LiteralPath $root -Recurse -File -Attributes !ReparsePoint
foreach ($file in $files) {
    $relative = $file.FullName.Substring($root.Length).TrimStart('\') -replace '\\', '/'
    $tmp = New-TemporaryFile
    & cmd /c "`"$Castorefs`" cat `"$StorePath/$relative`" > `"$tmp`""
    $want = (Get-FileHash -LiteralPath $tmp -Algorithm SHA256).Hash
    Remove-Item $tmp
    $got = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash
    Check ($got -eq $want) "$relative has the store's bytes"
    Check ($file.IsReadOnly) "$relative is read-only"
}

# The root's listing has the names `castorefs ls` prints (names Windows cannot hold appear mapped to U+F0xx).
$listed = (Get-ChildItem -LiteralPath $root -Force | ForEach-Object Name | Sort-Object) -join "`n"
Write-Host "listing of ${root}:`n$listed"

# Symlinks are reparse points; a directory link is a directory, and following it works.
$links = Get-ChildItem -LiteralPath $root -Recurse -Attributes ReparsePoint -ErrorAction SilentlyContinue
foreach ($link in $links) {
    Check ($link.LinkType -eq "SymbolicLink") "$($link.Name) is a symbolic link to $($link.Target)"
    if ($link.PSIsContainer) { Check (Test-Path -LiteralPath $link.FullName -PathType Container) "$($link.Name) opens as a directory" }
}

# Writes are refused: a new file, an existing file, a delete, a rename.
$probe = Join-Path $root "castorefs-write-probe"
try { Set-Content -LiteralPath $probe -Value x; Check $false "creating a file is refused" } catch { Check $true "creating a file is refused ($($_.Exception.Message))" }
if ($files.Count -gt 0) {
    $first = $files[0].FullName
    try { Add-Content -LiteralPath $first -Value x; Check $false "writing a file is refused" } catch { Check $true "writing a file is refused" }
    try { Remove-Item -LiteralPath $first -Force; Check $false "deleting a file is refused" } catch { Check $true "deleting a file is refused" }
}

# A program from the drive runs: the drive grants execute. A .cmd is enough; an .exe in the store is tried too.
$cmd = Get-ChildItem -LiteralPath $root -Recurse -Include *.cmd, *.bat -File | Select-Object -First 1
if ($cmd) { & $cmd.FullName; Check ($LASTEXITCODE -eq 0) "$($cmd.Name) ran" }
$exe = Get-ChildItem -LiteralPath $root -Recurse -Include *.exe -File | Select-Object -First 1
if ($exe) { $p = Start-Process -FilePath $exe.FullName -ArgumentList "--help" -PassThru -Wait -NoNewWindow; Check ($null -ne $p) "$($exe.Name) started" }
if (-not $cmd -and -not $exe) { Write-Host "note  no .cmd or .exe in $StorePath: import a folder with one to check that programs run" }

if ($failures -gt 0) { Write-Host "$failures check(s) failed" -ForegroundColor Red; exit 1 }
Write-Host "all checks passed"
