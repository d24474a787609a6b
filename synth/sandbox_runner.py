"""The process that runs generated code: it confines itself with the kernel, then calls the code.

synth.sandbox starts ``python -I -S -c <this file's text>`` with the job on stdin (an unlinked
file), the run's folder as an open directory descriptor and the result file as another. Before it
reads a line of the generated code it: sets rlimits (memory, CPU time, file size, open files),
imports the standard-library modules generated code may use, becomes an unprivileged user of its
own when started as root, limits itself to one task (RLIMIT_NPROC 1), sets no_new_privs, applies
a Landlock ruleset (read: the Python standard library; read and write: its own folder; nothing
else; TCP, abstract Unix sockets and signals outside the sandbox refused where the kernel has
them) and a seccomp filter (no exec, no fork or clone of a process, no sockets of any family, no
ptrace, no executable memory mapped from files it wrote, no namespace, mount or key calls). The
kernel then enforces all of it; nothing here is a Python-level check the code could undo.

The result goes to its own descriptor as ``<nonce>\\n<json>``: printed text lands on stdout and
cannot forge it. This file imports nothing from the project: it runs in a bare interpreter.
"""

import ctypes
import io
import json
import os
import resource
import struct
import sys
import traceback

PRELOAD = ("json", "re", "random", "math", "cmath", "string", "itertools", "functools", "collections",
           "collections.abc", "datetime", "time", "calendar", "_strptime", "decimal", "fractions", "statistics",
           "numbers", "hashlib", "hmac", "uuid", "csv", "textwrap", "unicodedata", "struct", "copy", "heapq",
           "bisect", "array", "zlib", "base64", "binascii", "typing", "dataclasses", "enum", "operator", "html",
           "html.parser", "difflib", "pprint", "contextlib", "abc", "traceback", "warnings", "urllib.parse",
           "ipaddress", "locale", "tempfile", "shutil", "pathlib", "glob", "fnmatch",
           "secrets", "io", "codecs", "importlib.util", "encodings.latin_1", "encodings.ascii", "encodings.utf_16",
           "encodings.utf_32", "encodings.cp1252", "encodings.idna", "gzip", "bz2", "lzma", "pickle", "inspect",
           "ast", "keyword", "token", "tokenize", "graphlib", "_posixsubprocess", "subprocess", "multiprocessing",
           "multiprocessing.util", "select", "fcntl", "mmap", "ctypes", "gc", "signal", "sqlite3", "socket")
"""Pure-Python standard-library modules imported before confinement when the runner's own user could
not read them afterwards (tunesmith as root with a private runtime, such as pyenv under /root)."""
SKIP_NATIVE = ("_test", "xx", "_xx", "_tkinter", "_curses", "readline", "nis", "spwd", "_crypt", "ossaudiodev",
               "audioop", "_dbm", "_gdbm", "_ctypes_test")
"""Extension modules not worth mapping: every other one in lib-dynload is imported before the filter
refuses executable mappings."""

# Landlock (include/uapi/linux/landlock.h): file-system rights by ABI version.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_ALL = 0b11  # bind and connect TCP, ABI 4+
SCOPE_ALL = 0b11  # abstract Unix sockets and signals, ABI 6+
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_READ_FILE | FS_READ_DIR
OWN = (FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG
       | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
SYS_LANDLOCK = (444, 445, 446)  # create_ruleset, add_rule, restrict_self (the same on every architecture)

# seccomp: syscalls refused with EPERM, per architecture (asm/unistd_64.h and asm-generic/unistd.h).
COMMON_NEW = {"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
              "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_open": 434,
              "pidfd_send_signal": 424, "pidfd_getfd": 438, "mount_setattr": 442, "fchmodat2": 452}
ARCHES = {
    "x86_64": {"audit": 0xC000003E, "x32": True, "clone": 56, "clone3": 435,
               "mmap": (9, 10, 329), "signals": (62, 200, 234, 129, 297), "shmat": 30,
               "deny": {"socket": 41, "socketpair": 53, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
                        "chmod": 90, "fchmod": 91, "fchmodat": 268, "chown": 92, "fchown": 93, "lchown": 94,
                        "fchownat": 260, "truncate": 76, "ptrace": 101, "setuid": 105, "setgid": 106, "setreuid": 113,
                        "setregid": 114, "setgroups": 116, "setresuid": 117, "setresgid": 119, "setfsuid": 122,
                        "setfsgid": 123, "mknod": 133, "mknodat": 259, "uselib": 134, "personality": 135,
                        "chroot": 161, "pivot_root": 155, "mount": 165, "umount2": 166, "acct": 163, "swapon": 167,
                        "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171,
                        "init_module": 175, "finit_module": 313, "delete_module": 176, "quotactl": 179,
                        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
                        "lremovexattr": 198, "fremovexattr": 199, "kexec_load": 246, "kexec_file_load": 320,
                        "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272, "setns": 308,
                        "move_pages": 279, "migrate_pages": 256, "perf_event_open": 298, "name_to_handle_at": 303,
                        "open_by_handle_at": 304, "process_vm_readv": 310, "process_vm_writev": 311,
                        "kcmp": 312, "bpf": 321, "userfaultfd": 323, **COMMON_NEW}},
    "aarch64": {"audit": 0xC00000B7, "x32": False, "clone": 220, "clone3": 435,
                "mmap": (222, 226, 288), "signals": (129, 130, 131, 138, 240), "shmat": 196,
                "deny": {"socket": 198, "socketpair": 199, "execve": 221, "execveat": 281, "fchmod": 52,
                         "fchmodat": 53, "fchownat": 54, "fchown": 55, "truncate": 45, "ptrace": 117, "setuid": 146,
                         "setgid": 144, "setreuid": 145, "setregid": 143, "setgroups": 159, "setresuid": 147,
                         "setresgid": 149, "setfsuid": 151, "setfsgid": 152, "mknodat": 33, "personality": 92,
                         "chroot": 51, "pivot_root": 41, "mount": 40, "umount2": 39, "acct": 89, "swapon": 224,
                         "swapoff": 225, "reboot": 142, "sethostname": 161, "setdomainname": 162,
                         "init_module": 105, "finit_module": 273, "delete_module": 106, "quotactl": 60,
                         "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
                         "fremovexattr": 16, "kexec_load": 104, "kexec_file_load": 294, "add_key": 217,
                         "request_key": 218, "keyctl": 219, "unshare": 97, "setns": 268, "move_pages": 239,
                         "migrate_pages": 238, "perf_event_open": 241, "name_to_handle_at": 264,
                         "open_by_handle_at": 265, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
                         "bpf": 280, "userfaultfd": 282, **COMMON_NEW}},
}
ERRNO_ONLY = {"socket", "socketpair", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
              "fchownat", "truncate", "setuid", "setgid", "setreuid", "setregid", "setgroups", "setresuid",
              "setresgid", "setfsuid", "setfsgid", "mknod", "mknodat", "sethostname", "setdomainname", "quotactl",
              "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"}
"""Refused with EPERM (the code sees PermissionError); every other listed call kills the process at once."""
CLONE_THREAD, PROT_EXEC, SHM_EXEC = 0x10000, 0x4, 0o100000
RET_ALLOW, RET_KILL, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
EPERM, ENOSYS = 1, 38
LD_W_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class Refused(Exception):
    """Confinement could not be applied: the code must not run."""


def _check(value, what):
    if value < 0:
        err = ctypes.get_errno()
        raise Refused(f"{what} failed: {os.strerror(err)} (errno {err})")
    return value


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    version = libc.syscall(SYS_LANDLOCK[0], None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, int(version))


def apply_landlock(read_paths, own_fd):
    """Read-only access to ``read_paths``, full access beneath ``own_fd``, nothing else. Returns the ABI."""
    abi = landlock_abi()
    if abi < 1:
        raise Refused("Landlock is not available in this kernel (needs Linux 5.13+ with landlock in the LSM list)")
    handled = FS_BY_ABI[min(abi, 5)]
    if abi >= 6:
        attr, size = struct.pack("=QQQ", handled, NET_ALL, SCOPE_ALL), 24
    elif abi >= 4:
        attr, size = struct.pack("=QQ", handled, NET_ALL), 16
    else:
        attr, size = struct.pack("=Q", handled), 8
    buf = ctypes.create_string_buffer(attr, size)
    ruleset = _check(libc.syscall(SYS_LANDLOCK[0], buf, ctypes.c_size_t(size), ctypes.c_uint32(0)),
                     "landlock_create_ruleset")

    def allow(fd, access, is_dir):
        access &= handled if is_dir else (handled & FILE_RIGHTS)
        rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
        _check(libc.syscall(SYS_LANDLOCK[1], ctypes.c_int(ruleset), ctypes.c_int(1), rule, ctypes.c_uint32(0)),
               "landlock_add_rule")

    for path, access in read_paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            allow(fd, access, os.path.isdir(path))
        finally:
            os.close(fd)
    allow(own_fd, OWN, True)
    _check(libc.syscall(SYS_LANDLOCK[2], ctypes.c_int(ruleset), ctypes.c_uint32(0)), "landlock_restrict_self")
    os.close(ruleset)
    return abi


def seccomp_program(arch, pid):
    """The BPF filter as a list of (code, jt, jf, k), jumps resolved from labels."""
    spec = ARCHES[arch]
    prog, fixups = [], []

    def op(code, k=0, jt=None, jf=None):
        prog.append([code, 0, 0, k])
        fixups.append((len(prog) - 1, jt, jf))

    op(LD_W_ABS, 4)  # seccomp_data.arch
    op(JEQ, spec["audit"], jt=None, jf="kill")
    op(LD_W_ABS, 0)  # seccomp_data.nr
    if spec["x32"]:
        op(JGE, 0x40000000, jt="kill")
    for name, nr in sorted(spec["deny"].items(), key=lambda item: item[1]):
        op(JEQ, nr, jt="deny" if name in ERRNO_ONLY else "kill")
    op(JEQ, spec["clone3"], jt="nosys")  # glibc then falls back to clone, checked below
    op(JEQ, spec["clone"], jt="clone")
    op(JEQ, spec["shmat"], jt="shmat")
    for nr in spec["mmap"]:
        op(JEQ, nr, jt="mmap")
    for nr in spec["signals"]:
        op(JEQ, nr, jt="signal")
    op(RET, RET_ALLOW)
    labels = {}
    labels["clone"] = len(prog)
    op(LD_W_ABS, 16)  # args[0] low word: clone flags
    op(JSET, CLONE_THREAD, jt="allow", jf="kill")
    labels["shmat"] = len(prog)
    op(LD_W_ABS, 32)  # args[2]: shmflg
    op(JSET, SHM_EXEC, jt="deny", jf="allow")
    labels["mmap"] = len(prog)
    op(LD_W_ABS, 32)  # args[2]: prot
    op(JSET, PROT_EXEC, jt="deny", jf="allow")
    labels["signal"] = len(prog)
    op(LD_W_ABS, 20)  # args[0] high word: a negative pid or group
    op(JEQ, 0, jf="deny")
    op(LD_W_ABS, 16)  # args[0] low word: only this process itself
    op(JEQ, pid, jt="allow", jf="deny")
    labels["allow"] = len(prog)
    op(RET, RET_ALLOW)
    labels["deny"] = len(prog)
    op(RET, RET_ERRNO | EPERM)
    labels["nosys"] = len(prog)
    op(RET, RET_ERRNO | ENOSYS)
    labels["kill"] = len(prog)
    op(RET, RET_KILL)
    for index, jt, jf in fixups:
        for slot, label in ((1, jt), (2, jf)):
            if label is not None:
                offset = labels[label] - index - 1
                if not 0 <= offset < 256:
                    raise Refused("seccomp filter too long")
                prog[index][slot] = offset
    return [tuple(ins) for ins in prog]


def apply_seccomp():
    arch = os.uname().machine
    if arch not in ARCHES:
        raise Refused(f"no seccomp filter is written for this CPU ({arch})")
    program = seccomp_program(arch, os.getpid())
    raw = b"".join(struct.pack("=HBBI", *ins) for ins in program)
    filters = ctypes.create_string_buffer(raw, len(raw))
    fprog = ctypes.create_string_buffer(struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(filters)), 16)
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp filter")
    return len(program)


def native_modules(folder):
    """Names of the extension modules in ``folder`` (lib-dynload), less SKIP_NATIVE."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    names = (entry.split(".", 1)[0] for entry in entries if entry.endswith(".so"))
    return sorted(name for name in names if not name.startswith(SKIP_NATIVE))


def readable_by_others(path):
    """True when a user that owns nothing here can reach ``path`` and read the files in it."""
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        while True:
            if not os.stat(path).st_mode & 0o001:
                return False
            if path == os.path.dirname(path):
                return True
            path = os.path.dirname(path)
    except OSError:
        return False


def set_limits(limits, address_space=True):
    """Memory, CPU time, file size, open files, no core dumps."""
    fsize = int(limits["file_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CPU, (int(limits["cpu_s"]), int(limits["cpu_s"]) + 1))
    if address_space:
        mem = int(limits["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    return f"rlimits (memory {limits['memory_mb']} MiB, CPU {limits['cpu_s']} s, files {limits['file_mb']} MiB)"


def confine(job, kernel=True):
    """Apply every protection in order; raises Refused when one is missing. Returns what applied.

    ``kernel=False`` (a run the person approved unconfined): limits and, as root, another user where
    that works; no Landlock, no seccomp."""
    limits = job["limits"]
    applied = [set_limits(limits, address_space=False)]  # the preload below needs room first
    uid = job.get("uid")
    stdlib = os.path.dirname(os.__file__)
    dynload = os.path.join(stdlib, "lib-dynload")
    modules = native_modules(dynload) + ([] if readable_by_others(stdlib) or uid is None else list(PRELOAD))
    for name in modules:
        try:
            __import__(name)
        except Exception:
            pass
    set_limits(limits)
    read_paths = [(stdlib, READ), (dynload, READ), ("/dev/null", FS_READ_FILE | FS_WRITE_FILE),
                  ("/dev/urandom", FS_READ_FILE)]
    own_fd = int(job["folder_fd"])
    os.fchdir(own_fd)
    if uid is not None:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        except OSError as exc:
            if kernel:
                raise Refused(f"could not switch to an unprivileged user: {exc}") from None
        try:
            os.setuid(0)
        except PermissionError:
            applied.append(f"user {uid} (not root)")
        else:
            if kernel:
                raise Refused("could not leave the root user")
    elif os.geteuid() == 0 and kernel:
        raise Refused("running as root without a user to switch to")
    resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
    applied.append("one task (RLIMIT_NPROC)")
    if not kernel:
        return applied + ["UNCONFINED: no Landlock, no seccomp (approved by the person)"]
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    abi = apply_landlock(read_paths, own_fd)
    applied.append(f"Landlock ABI {abi}")
    apply_seccomp()
    applied.append("seccomp (no exec, fork, sockets, ptrace, exec mappings)")
    return applied


class _Tail(io.TextIOBase):
    """Where print() goes: keeps the last characters only, so printing never grows memory."""

    def __init__(self, keep):
        self.keep, self.text, self.total = keep, "", 0

    def writable(self):
        return True

    def write(self, s):
        self.total += len(s)
        self.text = (self.text + s)[-self.keep:]
        return len(s)


def _call(job):
    namespace = {"__name__": "sandboxed"}
    exec(compile(job["source"], job["filename"], "exec"), namespace)
    fn = namespace.get(job["function"])
    if not callable(fn):
        raise NameError("the code defines no function %r" % job["function"])
    if not job.get("map_items"):
        return fn(job["payload"])
    value = []
    for item in job["payload"]:
        try:
            value.append(fn(item))
        except Exception as exc:
            value.append({"__error__": "%s: %s" % (type(exc).__name__, exc)})
    return value


def main():
    with os.fdopen(0, "rb", closefd=True) as stdin:
        job = json.loads(stdin.read())
    result_fd, nonce = int(job["result_fd"]), job.pop("nonce")
    out = {"ok": False, "value": None, "error": None, "stdout": "", "applied": [], "refused": None}

    def send():
        data = (nonce + "\n" + json.dumps(out, default=str)).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(result_fd, view):]
        os.close(result_fd)

    try:
        out["applied"] = confine(job, kernel=bool(job.get("confine")))
    except Exception as exc:
        out["refused"] = str(exc) if isinstance(exc, Refused) else "%s: %s" % (type(exc).__name__, exc)
        send()
        os._exit(3)
    os.close(int(job["folder_fd"]))
    if job.get("probe"):
        out.update(ok=True, value=os.getuid())
        send()
        os._exit(0)
    tail = _Tail(20000)
    sys.stdout = tail
    try:
        value = _call(job)
        json.dumps(value)
        out.update(ok=True, value=value)
    except MemoryError:
        out["error"] = "MemoryError: the code ran out of its memory limit"
    except BaseException as exc:
        out["error"] = "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc(limit=6))
    sys.stdout = sys.__stdout__
    out["stdout"] = tail.text
    try:
        send()
    except MemoryError:
        os._exit(4)
    os._exit(0)


if __name__ == "__main__":
    main()
