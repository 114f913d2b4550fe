/*
 * A test double of WinFsp's winfsp-x64.dll, for running the Windows build of castorefs under wine,
 * where WinFsp's kernel driver cannot run. It exports the functions castorefs binds, keeps the
 * FSP_FILE_SYSTEM_INTERFACE it is given, and drives it the way WinFsp's DLL does (winfsp.h, and the
 * rules of WinFsp's src/dll: GetSecurityByName and an access check before Open, no open unless
 * Create, Open and Overwrite exist, directory entries in 8-byte slots, reparse points resolved in
 * user mode, at most 32 hops). What it asks is a script: one request per line, run by several
 * threads of its own at once; every thread must print the same answers, which the test compares
 * with the tree read on Linux.
 *
 * Environment: CASTOREFS_WINFSP_SCRIPT (input, UTF-8), CASTOREFS_WINFSP_OUTPUT (answers, UTF-8),
 * CASTOREFS_WINFSP_THREADS (default 8). The test stops the process once the answers are written, with
 * a Ctrl-C (wine turns SIGINT into one; wine 8 refuses GenerateConsoleCtrlEvent from inside).
 */
#include <windows.h>
#include <sddl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __declspec(dllexport)
#define S_SUCCESS 0x00000000L
#define S_REPARSE 0x00000104L
#define S_BUFFER_OVERFLOW ((LONG)0x80000005L)
#define S_INVALID_PARAMETER ((LONG)0xC000000DL)
#define S_INVALID_DEVICE_REQUEST ((LONG)0xC0000010L)
#define S_END_OF_FILE ((LONG)0xC0000011L)
#define S_ACCESS_DENIED ((LONG)0xC0000022L)
#define S_BUFFER_TOO_SMALL ((LONG)0xC0000023L)
#define S_OBJECT_NAME_NOT_FOUND ((LONG)0xC0000034L)
#define S_OBJECT_PATH_NOT_FOUND ((LONG)0xC000003AL)
#define S_FILE_IS_A_DIRECTORY ((LONG)0xC00000BAL)
#define S_NOT_A_DIRECTORY ((LONG)0xC0000103L)
#define S_NOT_A_REPARSE_POINT ((LONG)0xC0000275L)
#define S_REPARSE_POINT_NOT_RESOLVED ((LONG)0xC0000280L)
#define SLOTS 64

typedef LONG NTSTATUS_T;

/* FSP_FSCTL_FILE_INFO, FSP_FSCTL_OPEN_FILE_INFO, FSP_FSCTL_DIR_INFO, FSP_FSCTL_VOLUME_INFO (fsctl.h). */
typedef struct { UINT32 Attributes, ReparseTag; UINT64 AllocationSize, FileSize, CreationTime, LastAccessTime, LastWriteTime, ChangeTime, IndexNumber; UINT32 HardLinks, EaSize; } FILE_INFO;
typedef struct { FILE_INFO FileInfo; PWSTR NormalizedName; UINT16 NormalizedNameSize; } OPEN_FILE_INFO;
typedef struct { UINT16 Size; FILE_INFO FileInfo; union { UINT64 NextOffset; UINT8 Padding[24]; } u; WCHAR FileNameBuf[]; } DIR_INFO;
typedef struct { UINT64 TotalSize, FreeSize; UINT16 VolumeLabelLength; WCHAR VolumeLabel[32]; } VOLUME_INFO;
typedef struct { UINT32 ReparseTag; UINT16 ReparseDataLength, Reserved, SubstituteNameOffset, SubstituteNameLength, PrintNameOffset, PrintNameLength; UINT32 Flags; WCHAR PathBuffer[]; } SYMLINK_REPARSE;
typedef struct { INT_PTR Status; UINT_PTR Information; } IOSB;

/* FSP_FILE_SYSTEM: the 792 bytes castorefs sees, then what only this double keeps. */
typedef struct {
    UINT16 Version; UINT8 Pad0[6]; void *UserContext; WCHAR VolumeName[256];
    UINT8 Pad1[728 - 16 - 512]; void **Interface; UINT8 Pad2[752 - 736]; PWSTR MountPoint; UINT8 Pad3[792 - 760];
    UINT8 Params[504]; UINT16 ParamsSize; WCHAR Mount[8]; HANDLE Driver; volatile LONG Stopped;
} FILE_SYSTEM;

_Static_assert(sizeof(FILE_INFO) == 72, "FILE_INFO");
_Static_assert(sizeof(OPEN_FILE_INFO) == 88, "OPEN_FILE_INFO");
_Static_assert(sizeof(DIR_INFO) == 104, "DIR_INFO");
_Static_assert(sizeof(VOLUME_INFO) == 88, "VOLUME_INFO");
_Static_assert(offsetof(FILE_SYSTEM, UserContext) == 8 && offsetof(FILE_SYSTEM, Interface) == 728 && offsetof(FILE_SYSTEM, MountPoint) == 752, "FSP_FILE_SYSTEM");

typedef NTSTATUS_T (*GetVolumeInfo_t)(FILE_SYSTEM *, VOLUME_INFO *);
typedef NTSTATUS_T (*SetVolumeLabel_t)(FILE_SYSTEM *, PWSTR, VOLUME_INFO *);
typedef NTSTATUS_T (*GetSecurityByName_t)(FILE_SYSTEM *, PWSTR, UINT32 *, void *, SIZE_T *);
typedef NTSTATUS_T (*Create_t)(FILE_SYSTEM *, PWSTR, UINT32, UINT32, UINT32, void *, UINT64, void **, FILE_INFO *);
typedef NTSTATUS_T (*Open_t)(FILE_SYSTEM *, PWSTR, UINT32, UINT32, void **, OPEN_FILE_INFO *);
typedef NTSTATUS_T (*Overwrite_t)(FILE_SYSTEM *, void *, UINT32, BOOLEAN, UINT64, FILE_INFO *);
typedef void (*Close_t)(FILE_SYSTEM *, void *);
typedef NTSTATUS_T (*Read_t)(FILE_SYSTEM *, void *, void *, UINT64, ULONG, ULONG *);
typedef NTSTATUS_T (*Write_t)(FILE_SYSTEM *, void *, void *, UINT64, ULONG, BOOLEAN, BOOLEAN, ULONG *, FILE_INFO *);
typedef NTSTATUS_T (*Flush_t)(FILE_SYSTEM *, void *, FILE_INFO *);
typedef NTSTATUS_T (*GetFileInfo_t)(FILE_SYSTEM *, void *, FILE_INFO *);
typedef NTSTATUS_T (*SetBasicInfo_t)(FILE_SYSTEM *, void *, UINT32, UINT64, UINT64, UINT64, UINT64, FILE_INFO *);
typedef NTSTATUS_T (*SetFileSize_t)(FILE_SYSTEM *, void *, UINT64, BOOLEAN, FILE_INFO *);
typedef NTSTATUS_T (*CanDelete_t)(FILE_SYSTEM *, void *, PWSTR);
typedef NTSTATUS_T (*Rename_t)(FILE_SYSTEM *, void *, PWSTR, PWSTR, BOOLEAN);
typedef NTSTATUS_T (*GetSecurity_t)(FILE_SYSTEM *, void *, void *, SIZE_T *);
typedef NTSTATUS_T (*SetSecurity_t)(FILE_SYSTEM *, void *, UINT32, void *);
typedef NTSTATUS_T (*ReadDirectory_t)(FILE_SYSTEM *, void *, PWSTR, PWSTR, void *, ULONG, ULONG *);
typedef NTSTATUS_T (*ResolveReparsePoints_t)(FILE_SYSTEM *, PWSTR, UINT32, BOOLEAN, IOSB *, void *, SIZE_T *);
typedef NTSTATUS_T (*GetReparsePoint_t)(FILE_SYSTEM *, void *, PWSTR, void *, SIZE_T *);
typedef NTSTATUS_T (*SetReparsePoint_t)(FILE_SYSTEM *, void *, PWSTR, void *, SIZE_T);
typedef NTSTATUS_T (*GetDirInfoByName_t)(FILE_SYSTEM *, void *, PWSTR, DIR_INFO *);
typedef NTSTATUS_T (*SetDelete_t)(FILE_SYSTEM *, void *, PWSTR, BOOLEAN);
typedef void (*DispatcherStopped_t)(FILE_SYSTEM *, BOOLEAN);
typedef NTSTATUS_T (*GetReparsePointByName_t)(FILE_SYSTEM *, void *, PWSTR, BOOLEAN, void *, SIZE_T *);

enum { GET_VOLUME_INFO, SET_VOLUME_LABEL, GET_SECURITY_BY_NAME, CREATE, OPEN, OVERWRITE, CLEANUP, CLOSE, READ, WRITE, FLUSH,
       GET_FILE_INFO, SET_BASIC_INFO, SET_FILE_SIZE, CAN_DELETE, RENAME, GET_SECURITY, SET_SECURITY, READ_DIRECTORY,
       RESOLVE_REPARSE_POINTS, GET_REPARSE_POINT, SET_REPARSE_POINT, DELETE_REPARSE_POINT, GET_STREAM_INFO,
       GET_DIR_INFO_BY_NAME, CONTROL, SET_DELETE, CREATE_EX, OVERWRITE_EX, GET_EA, SET_EA, OBSOLETE0, DISPATCHER_STOPPED };

#define CALL(fs, slot, type) ((type)(fs)->Interface[slot])

/* ---------------------------------------------------------------- exports castorefs binds */

EXPORT NTSTATUS_T FspVersion(UINT32 *version)
{
    *version = (2 << 16) | 1;
    return S_SUCCESS;
}

EXPORT NTSTATUS_T FspFileSystemCreate(PWSTR device, const void *params, const void *iface, FILE_SYSTEM **pfs)
{
    const UINT16 version = *(const UINT16 *)params;
    const void *const *slots = iface;
    if (wcscmp(device, L"WinFsp.Disk") != 0 && wcscmp(device, L"WinFsp.Net") != 0)
        return S_INVALID_PARAMETER;
    if (version != 0 && version != 504)
        return S_INVALID_PARAMETER;
    for (int i = DISPATCHER_STOPPED + 1; i < SLOTS; i++)
        if (slots[i] != 0)
            return S_INVALID_PARAMETER; /* reserved slots must be NULL */
    FILE_SYSTEM *fs = calloc(1, sizeof *fs);
    /* As WinFsp's DLL, keep the caller's table itself, not a copy: it must live as long as the file system. */
    fs->Interface = (void **)iface;
    fs->ParamsSize = version == 0 ? 456 : 504;
    memcpy(fs->Params, params, fs->ParamsSize);
    *pfs = fs;
    return S_SUCCESS;
}

EXPORT NTSTATUS_T FspFileSystemSetMountPoint(FILE_SYSTEM *fs, PWSTR mountPoint)
{
    if (fs->MountPoint != 0)
        return S_INVALID_PARAMETER;
    if (mountPoint == 0 || wcscmp(mountPoint, L"*:") == 0)
        wcscpy(fs->Mount, L"Z:");
    else if (wcslen(mountPoint) == 2 && mountPoint[1] == L':')
        wcscpy(fs->Mount, mountPoint);
    else
        return S_INVALID_PARAMETER;
    fs->MountPoint = fs->Mount;
    return S_SUCCESS;
}

EXPORT BOOLEAN FspFileSystemAddDirInfo(DIR_INFO *info, void *buffer, ULONG length, ULONG *transferred)
{
    static const UINT16 zero = 0;
    const void *source = info ? (const void *)info : (const void *)&zero;
    ULONG size = info ? info->Size : sizeof zero;
    ULONG slot = info ? (size + 7) & ~7UL : size;
    if (*transferred + slot > length)
        return FALSE;
    memcpy((UINT8 *)buffer + *transferred, source, size);
    *transferred += slot;
    return TRUE;
}

/* Follows links from component `index` on, as WinFsp's DLL does: a relative target replaces its
 * component, one starting with a backslash replaces the whole path; "." and ".." are stepped. */
EXPORT NTSTATUS_T FspFileSystemResolveReparsePoints(FILE_SYSTEM *fs, GetReparsePointByName_t byName, void *context,
    PWSTR fileName, UINT32 index, BOOLEAN resolveLast, IOSB *iosb, void *buffer, SIZE_T *psize)
{
    enum { MAX = 32768 };
    WCHAR *path = calloc(MAX, sizeof(WCHAR));
    UINT8 *data = calloc(1, 65536);
    int hops = 32;
    size_t pos = index;
    NTSTATUS_T result = S_SUCCESS;
    wcsncpy(path, fileName, MAX - 1);
    for (;;)
    {
        while (path[pos] == L'\\')
            pos++;
        size_t start = pos, end = pos;
        while (path[end] != 0 && path[end] != L'\\')
            end++;
        if (start == end)
            break;
        BOOLEAN last = path[end] == 0;
        if (last && !resolveLast)
            break;
        size_t len = end - start;
        if ((len == 1 && path[start] == L'.') || (len == 2 && path[start] == L'.' && path[start + 1] == L'.'))
        {
            size_t cut = start;
            if (len == 2)
            {
                while (cut > 0 && path[cut - 1] == L'\\')
                    cut--;
                while (cut > 0 && path[cut - 1] != L'\\')
                    cut--;
            }
            memmove(path + cut, path + end + (path[end] ? 1 : 0), (wcslen(path + end) + 1) * sizeof(WCHAR));
            pos = cut;
            continue;
        }
        WCHAR saved = path[end];
        SIZE_T size = 65536;
        path[end] = 0;
        NTSTATUS_T status = byName(fs, context, path, !last, data, &size);
        path[end] = saved;
        if (status == S_NOT_A_REPARSE_POINT)
        {
            pos = end;
            continue;
        }
        if (status == S_OBJECT_NAME_NOT_FOUND && last)
            break;
        if (status != S_SUCCESS)
        {
            result = status == S_OBJECT_NAME_NOT_FOUND ? S_OBJECT_PATH_NOT_FOUND : status;
            goto out;
        }
        if (--hops == 0)
        {
            result = S_REPARSE_POINT_NOT_RESOLVED;
            goto out;
        }
        SYMLINK_REPARSE *link = (SYMLINK_REPARSE *)data;
        const WCHAR *target = link->PathBuffer + link->SubstituteNameOffset / sizeof(WCHAR);
        size_t targetLen = link->SubstituteNameLength / sizeof(WCHAR);
        size_t replaceFrom = targetLen > 0 && target[0] == L'\\' ? 0 : start;
        size_t rest = wcslen(path + end) + 1;
        if (replaceFrom + targetLen + rest >= MAX)
        {
            result = S_REPARSE_POINT_NOT_RESOLVED;
            goto out;
        }
        memmove(path + replaceFrom + targetLen, path + end, rest * sizeof(WCHAR));
        memcpy(path + replaceFrom, target, targetLen * sizeof(WCHAR));
        pos = replaceFrom;
    }
    {
        size_t bytes = wcslen(path) * sizeof(WCHAR);
        if (offsetof(SYMLINK_REPARSE, PathBuffer) + bytes > *psize)
        {
            result = S_REPARSE_POINT_NOT_RESOLVED;
            goto out;
        }
        SYMLINK_REPARSE *out = buffer;
        memset(out, 0, sizeof *out);
        out->ReparseTag = IO_REPARSE_TAG_SYMLINK;
        out->Flags = 1;
        out->SubstituteNameLength = out->PrintNameLength = (UINT16)bytes;
        out->ReparseDataLength = (UINT16)(12 + bytes);
        memcpy(out->PathBuffer, path, bytes);
        *psize = offsetof(SYMLINK_REPARSE, PathBuffer) + bytes;
        iosb->Status = S_REPARSE;
        iosb->Information = IO_REPARSE_TAG_SYMLINK;
        result = S_REPARSE;
    }
out:
    free(path);
    free(data);
    return result;
}

/* ---------------------------------------------------------------- what an open does */

#define FILE_DIRECTORY_FILE_ 0x1
#define FILE_NON_DIRECTORY_FILE_ 0x40
#define FILE_OPEN_REPARSE_POINT_ 0x200000
#define READ_ACCESS 0x120089
#define WRITE_ACCESS 0x120116

typedef struct { char *text; size_t length, capacity; } ANSWERS;

static void put(ANSWERS *out, const char *format, ...)
{
    char line[4096];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (out->length + n + 1 > out->capacity)
    {
        out->capacity = (out->capacity + n + 1) * 2;
        out->text = realloc(out->text, out->capacity);
    }
    memcpy(out->text + out->length, line, n + 1);
    out->length += n;
}

static void utf8(const WCHAR *w, size_t chars, char *out, int size)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, (int)chars, out, size - 1, 0, 0);
    out[n < 0 ? 0 : n] = 0;
}

/* What the DACL grants Everyone: the one ACE form castorefs writes (any other form grants nothing here). */
static UINT32 granted(const UINT8 *sd, SIZE_T size)
{
    if (size < 20 || sd[0] != 1 || !(sd[2] & 0x04))
        return 0x1F01FF; /* no DACL: everything, as Windows does */
    UINT32 daclAt = *(const UINT32 *)(sd + 16), mask = 0;
    const UINT8 *acl = sd + daclAt;
    UINT16 count = *(const UINT16 *)(acl + 4);
    const UINT8 *ace = acl + 8;
    for (int i = 0; i < count; i++, ace += *(const UINT16 *)(ace + 2))
    {
        static const UINT8 everyone[] = { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
        if (ace[0] == 0 && memcmp(ace + 8, everyone, sizeof everyone) == 0)
            mask |= *(const UINT32 *)(ace + 4);
    }
    return mask;
}

typedef struct { NTSTATUS_T status; void *context; OPEN_FILE_INFO info; WCHAR path[4096]; int hops; } OPENED;

/* FspFileSystemOpCreate for FILE_OPEN: the security lookup and checks first, then Open; a reparse
 * makes the I/O manager open the resolved path instead. */
static void open_path(FILE_SYSTEM *fs, const WCHAR *path0, UINT32 options, UINT32 access, OPENED *o)
{
    memset(o, 0, sizeof *o);
    wcsncpy(o->path, path0, 4095);
    if (!fs->Interface[CREATE] || !fs->Interface[OPEN] || !fs->Interface[OVERWRITE])
    {
        o->status = S_INVALID_DEVICE_REQUEST;
        return;
    }
    for (;;)
    {
        UINT32 attributes = 0;
        UINT8 small[16], *sd = small;
        SIZE_T sdSize = sizeof small;
        NTSTATUS_T s = CALL(fs, GET_SECURITY_BY_NAME, GetSecurityByName_t)(fs, o->path, &attributes, sd, &sdSize);
        UINT8 *big = 0;
        if (s == S_BUFFER_OVERFLOW)
        {
            sd = big = malloc(sdSize);
            s = CALL(fs, GET_SECURITY_BY_NAME, GetSecurityByName_t)(fs, o->path, &attributes, sd, &sdSize);
        }
        UINT32 index = 0;
        BOOLEAN reparse = FALSE;
        if (s == S_REPARSE)
        {
            reparse = TRUE;
            index = attributes;
        }
        else if (s == S_SUCCESS && (attributes & FILE_ATTRIBUTE_REPARSE_POINT) && !(options & FILE_OPEN_REPARSE_POINT_))
            reparse = TRUE;
        if (reparse)
        {
            free(big);
            UINT8 buffer[16384];
            SIZE_T size = sizeof buffer;
            IOSB iosb = { 0, 0 };
            s = CALL(fs, RESOLVE_REPARSE_POINTS, ResolveReparsePoints_t)(fs, o->path, index, TRUE, &iosb, buffer, &size);
            if (s != S_REPARSE || ++o->hops > 32)
            {
                o->status = s == S_REPARSE ? S_REPARSE_POINT_NOT_RESOLVED : s;
                return;
            }
            SYMLINK_REPARSE *link = (SYMLINK_REPARSE *)buffer;
            size_t n = link->SubstituteNameLength / sizeof(WCHAR);
            memcpy(o->path, link->PathBuffer + link->SubstituteNameOffset / sizeof(WCHAR), n * sizeof(WCHAR));
            o->path[n] = 0;
            continue;
        }
        if (s != S_SUCCESS)
        {
            free(big);
            o->status = s;
            return;
        }
        BOOLEAN directory = (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
        if ((options & FILE_DIRECTORY_FILE_) && !directory)
            s = S_NOT_A_DIRECTORY;
        else if ((options & FILE_NON_DIRECTORY_FILE_) && directory)
            s = S_FILE_IS_A_DIRECTORY;
        else if ((access & ~granted(sd, sdSize)) != 0)
            s = S_ACCESS_DENIED;
        else if (!directory && (attributes & FILE_ATTRIBUTE_READONLY) && (access & (FILE_WRITE_DATA | FILE_APPEND_DATA)))
            s = S_ACCESS_DENIED;
        free(big);
        if (s != S_SUCCESS)
        {
            o->status = s;
            return;
        }
        o->status = CALL(fs, OPEN, Open_t)(fs, o->path, options, access, &o->context, &o->info);
        return;
    }
}

static void close_path(FILE_SYSTEM *fs, OPENED *o)
{
    if (o->status == S_SUCCESS && fs->Interface[CLOSE])
        CALL(fs, CLOSE, Close_t)(fs, o->context);
}

static void put_info(ANSWERS *out, const FILE_INFO *i)
{
    put(out, " attributes=%08X tag=%08X size=%llu allocation=%llu time=%llu/%llu/%llu/%llu id=%016llx links=%u",
        i->Attributes, i->ReparseTag, i->FileSize, i->AllocationSize, i->CreationTime, i->LastAccessTime,
        i->LastWriteTime, i->ChangeTime, i->IndexNumber, i->HardLinks);
}

static void put_path(ANSWERS *out, const WCHAR *w)
{
    char s[8192];
    utf8(w, wcslen(w), s, sizeof s);
    put(out, "%s", s);
}

/* ---------------------------------------------------------------- the script */

static void run(FILE_SYSTEM *fs, char *verb, WCHAR *path, char *arg1, char *arg2, ANSWERS *out)
{
    OPENED o;
    if (strcmp(verb, "volume") == 0)
    {
        VOLUME_INFO v;
        memset(&v, 0xCC, sizeof v);
        NTSTATUS_T s = CALL(fs, GET_VOLUME_INFO, GetVolumeInfo_t)(fs, &v);
        char label[128], name[64];
        utf8(v.VolumeLabel, v.VolumeLabelLength / 2, label, sizeof label);
        const WCHAR *fsname = (const WCHAR *)(fs->Params + 424);
        utf8(fsname, wcsnlen(fsname, 16), name, sizeof name);
        put(out, "volume %08lX label=%s version=%u sector=%u component=%u flags=%08X fileinfo=%08X v1=%08X dirinfo=%u name=%s prefix=%u\n",
            s, label, *(UINT16 *)fs->Params, *(UINT16 *)(fs->Params + 2), *(UINT16 *)(fs->Params + 6), *(UINT32 *)(fs->Params + 36),
            *(UINT32 *)(fs->Params + 32), *(UINT32 *)(fs->Params + 456), *(UINT32 *)(fs->Params + 464), name, *(WCHAR *)(fs->Params + 40));
        return;
    }
    put(out, "%s ", verb);
    put_path(out, path);
    if (strcmp(verb, "stat") == 0 || strcmp(verb, "lstat") == 0)
    {
        open_path(fs, path, verb[0] == 'l' ? FILE_OPEN_REPARSE_POINT_ : 0, FILE_READ_ATTRIBUTES | SYNCHRONIZE, &o);
        put(out, " %08lX", o.status);
        if (o.status == S_SUCCESS)
        {
            FILE_INFO i;
            NTSTATUS_T s = CALL(fs, GET_FILE_INFO, GetFileInfo_t)(fs, o.context, &i);
            put(out, " at=");
            put_path(out, o.path);
            if (s != S_SUCCESS || memcmp(&i, &o.info.FileInfo, sizeof i) != 0)
                put(out, " GETFILEINFO-DIFFERS(%08lX)", s);
            put_info(out, &i);
        }
    }
    else if (strcmp(verb, "cat") == 0)
    {
        ULONG chunk = (ULONG)strtoul(arg1, 0, 10);
        open_path(fs, path, FILE_NON_DIRECTORY_FILE_, READ_ACCESS, &o);
        put(out, " %08lX", o.status);
        if (o.status == S_SUCCESS)
        {
            UINT8 *buffer = malloc(chunk);
            UINT64 offset = 0, hash = 0xcbf29ce484222325ULL;
            NTSTATUS_T s;
            ULONG got, reads = 0;
            while ((s = CALL(fs, READ, Read_t)(fs, o.context, buffer, offset, chunk, &got)) == S_SUCCESS)
            {
                if (got == 0 || got > chunk)
                    break;
                for (ULONG i = 0; i < got; i++)
                    hash = (hash ^ buffer[i]) * 0x100000001b3ULL;
                offset += got;
                reads++;
            }
            put(out, " size=%llu fnv=%016llx end=%08lX", offset, hash, s);
            free(buffer);
        }
    }
    else if (strcmp(verb, "read") == 0)
    {
        UINT64 offset = strtoull(arg1, 0, 10);
        ULONG length = (ULONG)strtoul(arg2, 0, 10), got = 0xFFFFFFFF;
        open_path(fs, path, FILE_NON_DIRECTORY_FILE_, READ_ACCESS, &o);
        put(out, " %08lX", o.status);
        if (o.status == S_SUCCESS)
        {
            UINT8 *buffer = malloc(length + 16);
            memset(buffer, 0xEE, length + 16);
            NTSTATUS_T s = CALL(fs, READ, Read_t)(fs, o.context, buffer, offset, length, &got);
            put(out, " read=%08lX count=%lu bytes=", s, s == S_SUCCESS ? got : 0);
            for (ULONG i = 0; s == S_SUCCESS && i < got && i < 16; i++)
                put(out, "%02x", buffer[i]);
            for (ULONG i = length; i < length + 16; i++)
                if (buffer[i] != 0xEE)
                {
                    put(out, " OVERRUN");
                    break;
                }
            free(buffer);
        }
    }
    else if (strcmp(verb, "list") == 0)
    {
        ULONG size = (ULONG)strtoul(arg1, 0, 10);
        open_path(fs, path, FILE_DIRECTORY_FILE_, READ_ACCESS, &o);
        put(out, " %08lX", o.status);
        if (o.status == S_SUCCESS)
        {
            UINT8 *buffer = malloc(size);
            WCHAR marker[512];
            BOOLEAN haveMarker = FALSE, end = FALSE;
            int calls = 0, entries = 0;
            NTSTATUS_T s = S_SUCCESS;
            while (!end && calls < 100000)
            {
                ULONG got = 0;
                calls++;
                s = CALL(fs, READ_DIRECTORY, ReadDirectory_t)(fs, o.context, 0, haveMarker ? marker : 0, buffer, size, &got);
                if (s != S_SUCCESS)
                    break;
                ULONG at = 0;
                int inThisCall = 0;
                while (at + 2 <= got)
                {
                    DIR_INFO *d = (DIR_INFO *)(buffer + at);
                    if (d->Size == 0)
                    {
                        end = TRUE;
                        break;
                    }
                    size_t chars = (d->Size - sizeof(DIR_INFO)) / sizeof(WCHAR);
                    char name[1024];
                    utf8(d->FileNameBuf, chars, name, sizeof name);
                    put(out, "\n  %s", name);
                    put_info(out, &d->FileInfo);
                    memcpy(marker, d->FileNameBuf, chars * sizeof(WCHAR));
                    marker[chars] = 0;
                    haveMarker = TRUE;
                    at += (d->Size + 7) & ~7U;
                    entries++;
                    inThisCall++;
                }
                if (!end && inThisCall == 0)
                {
                    put(out, "\n  NO-PROGRESS");
                    break;
                }
            }
            put(out, "\nlist-end %08lX entries=%d eof=%d", s, entries, end);
            (void)calls;
            free(buffer);
        }
    }
    else if (strcmp(verb, "dirinfo") == 0)
    {
        WCHAR name[512];
        MultiByteToWideChar(CP_UTF8, 0, arg1, -1, name, 512);
        open_path(fs, path, FILE_DIRECTORY_FILE_, READ_ACCESS, &o);
        put(out, " %s %08lX", arg1, o.status);
        if (o.status == S_SUCCESS)
        {
            UINT8 buffer[sizeof(DIR_INFO) + 255 * sizeof(WCHAR)];
            DIR_INFO *d = (DIR_INFO *)buffer;
            NTSTATUS_T s = CALL(fs, GET_DIR_INFO_BY_NAME, GetDirInfoByName_t)(fs, o.context, name, d);
            put(out, " %08lX", s);
            if (s == S_SUCCESS)
            {
                char back[1024];
                utf8(d->FileNameBuf, (d->Size - sizeof(DIR_INFO)) / sizeof(WCHAR), back, sizeof back);
                put(out, " name=%s", back);
                put_info(out, &d->FileInfo);
            }
        }
    }
    else if (strcmp(verb, "reparse") == 0)
    {
        open_path(fs, path, FILE_OPEN_REPARSE_POINT_, READ_ACCESS, &o);
        put(out, " %08lX", o.status);
        if (o.status == S_SUCCESS)
        {
            UINT8 buffer[16384];
            SIZE_T size = 8;
            NTSTATUS_T small = CALL(fs, GET_REPARSE_POINT, GetReparsePoint_t)(fs, o.context, o.path, buffer, &size);
            SIZE_T needed = size;
            size = sizeof buffer;
            NTSTATUS_T s = CALL(fs, GET_REPARSE_POINT, GetReparsePoint_t)(fs, o.context, o.path, buffer, &size);
            put(out, " small=%08lX needed=%llu %08lX", small, (unsigned long long)needed, s);
            if (s == S_SUCCESS)
            {
                SYMLINK_REPARSE *l = (SYMLINK_REPARSE *)buffer;
                char target[8192], print[8192];
                utf8(l->PathBuffer + l->SubstituteNameOffset / 2, l->SubstituteNameLength / 2, target, sizeof target);
                utf8(l->PathBuffer + l->PrintNameOffset / 2, l->PrintNameLength / 2, print, sizeof print);
                put(out, " tag=%08X flags=%u length=%u size=%llu target=%s print=%s", l->ReparseTag, l->Flags, l->ReparseDataLength,
                    (unsigned long long)size, target, print);
            }
        }
    }
    else if (strcmp(verb, "sd") == 0)
    {
        UINT32 attributes;
        UINT8 sd[1024];
        SIZE_T size = sizeof sd;
        NTSTATUS_T s = CALL(fs, GET_SECURITY_BY_NAME, GetSecurityByName_t)(fs, path, &attributes, sd, &size);
        put(out, " %08lX", s);
        if (s == S_SUCCESS)
        {
            LPWSTR sddl = 0;
            if (ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, 1, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &sddl, 0))
            {
                put(out, " sddl=");
                put_path(out, sddl);
                LocalFree(sddl);
            }
            else
                put(out, " sddl-error=%lu", GetLastError());
            put(out, " valid=%d size=%llu", IsValidSecurityDescriptor(sd), (unsigned long long)size);
        }
    }
    else if (strcmp(verb, "write") == 0)
    {
        open_path(fs, path, 0, WRITE_ACCESS, &o);
        put(out, " open-for-write=%08lX", o.status);
        close_path(fs, &o);
        void *context = 0;
        FILE_INFO info;
        NTSTATUS_T create = CALL(fs, CREATE, Create_t)(fs, path, 0, WRITE_ACCESS, 0, 0, 0, &context, &info);
        open_path(fs, path, 0, READ_ACCESS, &o);
        put(out, " create=%08lX open=%08lX", create, o.status);
        if (o.status == S_SUCCESS)
        {
            ULONG written = 0;
            char data[4] = "abc";
            UINT8 sd[4] = { 0 };
            WCHAR label[] = L"x";
            VOLUME_INFO v;
            put(out, " overwrite=%08lX", CALL(fs, OVERWRITE, Overwrite_t)(fs, o.context, 0, TRUE, 0, &info));
            put(out, " write=%08lX", CALL(fs, WRITE, Write_t)(fs, o.context, data, 0, 3, FALSE, FALSE, &written, &info));
            put(out, " basic=%08lX", CALL(fs, SET_BASIC_INFO, SetBasicInfo_t)(fs, o.context, 0, 1, 1, 1, 1, &info));
            put(out, " size=%08lX", CALL(fs, SET_FILE_SIZE, SetFileSize_t)(fs, o.context, 0, FALSE, &info));
            put(out, " candelete=%08lX", CALL(fs, CAN_DELETE, CanDelete_t)(fs, o.context, path));
            put(out, " rename=%08lX", CALL(fs, RENAME, Rename_t)(fs, o.context, path, L"\\renamed", FALSE));
            put(out, " security=%08lX", CALL(fs, SET_SECURITY, SetSecurity_t)(fs, o.context, 4, sd));
            put(out, " setreparse=%08lX", CALL(fs, SET_REPARSE_POINT, SetReparsePoint_t)(fs, o.context, path, sd, 4));
            put(out, " deletereparse=%08lX", CALL(fs, DELETE_REPARSE_POINT, SetReparsePoint_t)(fs, o.context, path, sd, 4));
            put(out, " setdelete=%08lX", CALL(fs, SET_DELETE, SetDelete_t)(fs, o.context, path, TRUE));
            put(out, " label=%08lX", CALL(fs, SET_VOLUME_LABEL, SetVolumeLabel_t)(fs, label, &v));
            FILE_INFO flushed, now;
            NTSTATUS_T flush = CALL(fs, FLUSH, Flush_t)(fs, o.context, &flushed);
            CALL(fs, GET_FILE_INFO, GetFileInfo_t)(fs, o.context, &now);
            put(out, " flush=%08lX same=%d volumeflush=%08lX", flush, memcmp(&flushed, &now, sizeof now) == 0, CALL(fs, FLUSH, Flush_t)(fs, 0, 0));
        }
    }
    else
        put(out, " UNKNOWN-VERB");
    close_path(fs, &o);
    put(out, "\n");
}

typedef struct { FILE_SYSTEM *fs; char *script; ANSWERS out; } WORKER;

static DWORD WINAPI work(void *p)
{
    WORKER *w = p;
    char *script = _strdup(w->script), *save = 0;
    for (char *line = strtok_r(script, "\n", &save); line; line = strtok_r(0, "\n", &save))
    {
        char *fields[4] = { 0 }, *lsave = 0;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = 0;
        if (!*line || *line == '#')
            continue;
        int count = 0;
        for (char *f = strtok_r(line, "\t", &lsave); f && count < 4; f = strtok_r(0, "\t", &lsave))
            fields[count++] = f;
        WCHAR path[4096] = L"";
        if (fields[1])
            MultiByteToWideChar(CP_UTF8, 0, fields[1], -1, path, 4096);
        run(w->fs, fields[0], path, fields[2] ? fields[2] : "", fields[3] ? fields[3] : "", &w->out);
    }
    free(script);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc(1, n + 1);
    fread(text, 1, n, f);
    fclose(f);
    return text;
}

/* The driver's side: run the script on threads of our own, compare their answers and write them. */
static DWORD WINAPI drive(void *p)
{
    FILE_SYSTEM *fs = p;
    const char *scriptPath = getenv("CASTOREFS_WINFSP_SCRIPT"), *outputPath = getenv("CASTOREFS_WINFSP_OUTPUT");
    const char *threadsText = getenv("CASTOREFS_WINFSP_THREADS");
    int threads = threadsText ? atoi(threadsText) : 8;
    char *script = scriptPath ? slurp(scriptPath) : 0;
    FILE *output = outputPath ? fopen(outputPath, "wb") : 0;
    if (threads < 1 || threads > 64)
        threads = 8;
    if (script && output)
    {
        WORKER *workers = calloc(threads, sizeof *workers);
        HANDLE *handles = calloc(threads, sizeof *handles);
        for (int i = 0; i < threads; i++)
        {
            workers[i].fs = fs;
            workers[i].script = script;
            handles[i] = CreateThread(0, 4 << 20, work, &workers[i], 0, 0);
        }
        WaitForMultipleObjects(threads, handles, TRUE, INFINITE);
        fwrite(workers[0].out.text ? workers[0].out.text : "", 1, workers[0].out.length, output);
        for (int i = 1; i < threads; i++)
            if (workers[i].out.length != workers[0].out.length || memcmp(workers[i].out.text, workers[0].out.text, workers[0].out.length) != 0)
                fprintf(output, "THREAD-MISMATCH %d\n", i);
        fprintf(output, "threads %d\nEND\n", threads);
        for (int i = 0; i < threads; i++)
        {
            CloseHandle(handles[i]);
            free(workers[i].out.text);
        }
        free(workers);
        free(handles);
    }
    else if (output)
        fprintf(output, "NO-SCRIPT\n");
    free(script);
    if (output)
        fclose(output);
    return 0;
}

EXPORT NTSTATUS_T FspFileSystemStartDispatcher(FILE_SYSTEM *fs, ULONG threads)
{
    (void)threads;
    if (fs->MountPoint == 0 || fs->UserContext == 0 || fs->Driver != 0)
        return S_INVALID_PARAMETER;
    fs->Driver = CreateThread(0, 0, drive, fs, 0, 0);
    return fs->Driver ? S_SUCCESS : S_INVALID_PARAMETER;
}

EXPORT void FspFileSystemStopDispatcher(FILE_SYSTEM *fs)
{
    if (fs->Driver == 0 || InterlockedExchange(&fs->Stopped, 1))
        return;
    WaitForSingleObject(fs->Driver, INFINITE);
    if (fs->Interface[DISPATCHER_STOPPED])
        CALL(fs, DISPATCHER_STOPPED, DispatcherStopped_t)(fs, TRUE);
}

EXPORT void FspFileSystemDelete(FILE_SYSTEM *fs)
{
    FspFileSystemStopDispatcher(fs);
    if (fs->Driver)
        CloseHandle(fs->Driver);
    free(fs);
}
