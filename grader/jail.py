"""The limits put on a sandbox process, meant to hold when the grader runs as root and when it does not.

Three steps. `enter_namespaces` runs in the forked sandbox before the learner's process
exists: new PID, network, IPC and mount namespaces (and a user namespace when the grader
is not root), then a new root file system on an empty tmpfs that shows only the system
folders, read-only, a few devices and a private /tmp. Everything else (the project,
submissions, outputs, the gradebook, home folders, other mounts) is simply not there,
wherever staff keep it. `enter_root` runs in the learner's process, PID 1 of the new PID
namespace: it mounts a /proc that shows only the sandbox's own processes and moves into
the new root. `restrict_process` then sets resource limits, switches to an unprivileged
user, forbids namespaces of its own, drops every capability and forbids new privileges.
Each step says what it applied and what it could not, so `gcgrade doctor` reports it and
nothing degrades silently.
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
import sys
import sysconfig
from dataclasses import dataclass, field

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 0x1, 0x2, 0x4, 0x8, 0x20
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_CAP_AMBIENT = 38, 4, 24, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: pivot_root has no libc wrapper; its system call number per architecture (chroot is the fallback)
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "loongarch64": 41}

#: the only folders of the machine a sandbox sees, read-only (symbolic links are copied as links)
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
#: the interpreter's own standard library, wherever it is installed (pyenv puts it under /root)
STDLIB_FOLDERS = tuple(dict.fromkeys(
    sysconfig.get_path(name, vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    for name in ("stdlib", "platstdlib")))
#: devices learner code may open
DEVICES = ("null", "zero", "full", "random", "urandom")
#: where the new root is assembled: a mount point every Linux has, covered in the sandbox's mount namespace only
NEW_ROOT = "/tmp"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 256 << 20   #: address space the learner's code may add (256 MiB; the assignment needs a few)
    cpu_seconds: int = 60           #: CPU time for one sandbox process (one submission's functions)
    processes: int = 8              #: processes and threads the sandbox user may have (each gets the memory limit)
    file_bytes: int = 8 << 20       #: largest file the learner's code may write
    open_files: int = 64
    scratch_bytes: int = 16 << 20   #: size of the private /tmp
    uid: int = 61000                #: unprivileged user when the grader runs as root
    hidden: tuple = field(default=())  #: folders to hide even if they sit inside a visible system folder


@dataclass
class Setup:
    """What `enter_namespaces` achieved; the learner's process continues from it."""
    applied: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    user_namespace: bool = False    #: not root: a user namespace stands in for root inside the sandbox
    pid_namespace: bool = False     #: the learner's process will be PID 1 of its own namespace
    new_root: str = ""              #: the assembled root file system, empty when it could not be built


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                       data and data.encode()), f"mount {target}")


def enter_namespaces(limits: Limits, extra_hidden: tuple = ()) -> Setup:
    """Unshare namespaces and assemble the new root; called in the sandbox before the learner's process forks."""
    setup = Setup()
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    uid, gid = os.getuid(), os.getgid()
    if not root:
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # the id maps below are written through /proc/self
    if _libc.unshare(flags if root else flags | CLONE_NEWUSER) != 0:
        who = ("an unprivileged user" if root else
               "your own user: it can read every file you can, and the grader's memory")
        setup.missing.append(f"NO NAMESPACES ({os.strerror(ctypes.get_errno())}): learner code shares this "
                             f"machine's network, processes and files, and runs as {who}")
        return setup
    setup.pid_namespace = True
    if not root:
        setup.user_namespace = True
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
            setup.applied.append("user namespace (the grader is not root; inside, learner code has no privileges)")
        except OSError as exc:
            setup.missing.append(f"user namespace without an id map ({exc.strerror}): learner code runs as nobody")
        forbid_inspection()
    setup.applied += ["PID namespace: every process dies with the sandbox",
                      "no network (empty network namespace)", "IPC namespace"]
    if _libc.unshare(CLONE_NEWUTS | CLONE_NEWCGROUP) == 0:  # host name and cgroup paths: nice to have
        setup.applied.append("own host name and cgroup view")
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        shown, covered = _assemble_root(limits, tuple(limits.hidden) + tuple(extra_hidden))
        setup.new_root = NEW_ROOT
        setup.applied.append("only system folders are visible, read-only: " + ", ".join(shown))
        if covered:
            setup.applied.append("hidden even there: " + ", ".join(covered))
        setup.applied.append(f"private /tmp scratch of {limits.scratch_bytes >> 20} MiB, gone with the sandbox")
    except OSError as exc:
        setup.missing.append(f"NO PRIVATE FILE SYSTEM ({exc}): learner code can read every file its user can")
    return setup


def _assemble_root(limits: Limits, hidden: tuple) -> tuple[list, list]:
    """Build the sandbox's root on a fresh tmpfs at NEW_ROOT; returns the folders it shows and those it covers."""
    new = NEW_ROOT
    _mount("gcgrade-root", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    shown = []
    for path in SYSTEM_FOLDERS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), new + path)
            shown.append(path)
        elif os.path.isdir(path):
            _bind_read_only(path, new + path)
            shown.append(path)
    for path in STDLIB_FOLDERS:
        real = os.path.realpath(path)
        if os.path.isdir(real) and not os.path.isdir(new + real):
            _bind_read_only(real, new + real)
            shown.append(real)
    os.makedirs(new + "/dev")
    _mount("gcgrade-dev", new + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for device in DEVICES:
        if os.path.exists("/dev/" + device):
            open(f"{new}/dev/{device}", "w").close()
            _mount("/dev/" + device, f"{new}/dev/{device}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{new}/dev/{name}")
    _mount(None, new + "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
    os.makedirs(new + "/proc")
    os.makedirs(new + "/tmp")
    _mount("gcgrade-tmp", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.scratch_bytes},mode=1777")
    covered = []
    for path in dict.fromkeys(os.path.realpath(p) for p in hidden):
        if path != "/" and os.path.isdir(new + path) and not os.path.islink(new + path):
            _mount("gcgrade", new + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
            covered.append(path)
    _mount(None, new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return shown, covered


def _bind_read_only(source: str, target: str) -> None:
    os.makedirs(target, exist_ok=True)
    try:
        _mount(source, target, None, MS_BIND)
    except OSError:  # in a user namespace a folder with mounts below it can only be bound with them
        _mount(source, target, None, MS_BIND | MS_REC)
    try:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError:  # a mount locked without nosuid/nodev keeps them; read-only is what matters
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter_root(setup: Setup) -> tuple[list, list]:
    """In the learner's process (PID 1, still privileged): its own /proc, then the new root."""
    applied, missing = [], []
    if not setup.new_root:
        return applied, missing
    new = setup.new_root
    if setup.pid_namespace:
        try:
            _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            applied.append("/proc shows only the sandbox's own processes")
        except OSError as exc:
            missing.append(f"no /proc inside the sandbox ({exc.strerror}); the machine's processes stay hidden")
    os.chdir(new)
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is not None and _libc.syscall(number, b".", b".") == 0:
        _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")
        os.chdir("/")
        applied.append("the machine's own root is detached: there is no path back to it")
    else:
        os.chroot(".")
        os.chdir("/")
        applied.append("chroot into the new root (pivot_root unavailable); capabilities are dropped below")
    return applied, missing


def restrict_process(limits: Limits, base_address_space: int, setup: Setup | None = None) -> tuple[list, list]:
    """Resource limits, an unprivileged user, no namespaces, no capabilities; in the learner's process itself."""
    applied, missing = [], []
    cap = base_address_space + limits.memory_bytes
    for name, value in (("RLIMIT_AS", cap), ("RLIMIT_CPU", limits.cpu_seconds),
                        ("RLIMIT_FSIZE", limits.file_bytes), ("RLIMIT_NOFILE", limits.open_files),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits.processes)):
        kind = getattr(resource, name)
        hard = value + 1 if name == "RLIMIT_CPU" else value
        try:
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError) as exc:
            missing.append(f"{name} not set ({exc})")
    applied.append(f"limits: {limits.memory_bytes >> 20} MiB memory, {limits.cpu_seconds} s CPU, "
                   f"{limits.processes} processes, {limits.file_bytes >> 20} MiB files, {limits.open_files} open files")
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self belongs to this process again (off below)
    try:  # if the machine runs out of memory anyway, the kernel kills sandbox processes first, not the grader
        _write("/proc/self/oom_score_adj", "1000")
    except OSError:
        pass
    _drop_bounding_set()
    user_namespace = bool(setup and setup.user_namespace)
    if os.geteuid() == 0 and not user_namespace:
        try:
            os.setgroups([])
            os.setgid(limits.uid)
            os.setuid(limits.uid)
            applied.append(f"runs as unprivileged user {limits.uid}, not root")
        except OSError as exc:
            missing.append(f"could not drop root ({exc}): file permissions do not protect staff files")
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # changing user turned it off; the id maps need it
    else:
        applied.append(f"runs as the grader's own user {os.getuid()} (not root)")
    if _forbid_user_namespaces(user_namespace):
        applied.append("no namespaces of its own (a private tmpfs could otherwise fill the machine's memory)")
    else:
        missing.append("learner code can create user namespaces, and in them mount a tmpfs of any size")
    _drop_bounding_set()
    _clear_capabilities()
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        applied.append("no new privileges (setuid programs cannot raise them)")
    else:
        missing.append("no_new_privs could not be set: setuid programs could raise privileges")
    forbid_inspection()
    held = capabilities()
    if held and not any(held.values()):
        applied.append("no capabilities (effective, permitted, inheritable, bounding and ambient sets are empty)")
    else:
        missing.append(f"capabilities still held: {held or 'unknown'}")
    return applied, missing


def _forbid_user_namespaces(inside_one: bool) -> bool:
    """Set this process's user namespace limit to 0, entering a user namespace of its own first if needed.

    With no user namespace, an unprivileged process cannot create any other namespace either. The
    limit can only be set from inside a user namespace, with the capabilities it grants (dropped next).
    """
    try:
        if not inside_one:
            uid, gid = os.getuid(), os.getgid()
            _check(_libc.unshare(CLONE_NEWUSER), "unshare")
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        _write("/proc/sys/user/max_user_namespaces", "0")
        return True
    except OSError:
        return False


def forbid_inspection() -> None:
    """Not dumpable: other processes of the same user can neither trace this one nor read its memory."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _drop_bounding_set() -> None:
    """Empty the capability bounding set, so nothing executed later can gain a capability back."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 63
    for number in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (in a user namespace the process starts with all)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _libc.capset(ctypes.byref(header), data)


def capabilities() -> dict:
    """This process's capability sets as numbers, read from /proc/self/status ({} when unreadable)."""
    try:
        with open("/proc/self/status") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    return {line[:6]: int(line.split()[1], 16) for line in lines
            if line[:6] in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def address_space() -> int:
    """Current virtual size of this process, in bytes (the base the memory limit adds to)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")
