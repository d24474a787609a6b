"""Attacks generated code has tried on the sandbox, as code bodies plus what "stopped" means for each.

Each attack is the body of ``_attack()``, formatted with the test's paths: ``{victim}`` (a file
outside the code's folder that must stay unchanged), ``{outside}`` (a folder where nothing may
appear), ``{secret}`` (another session's conversation), ``{port}`` (a TCP port the test listens on).
``expect`` is what the real tool must report; ``REFUSED`` is also accepted on a machine whose kernel
cannot confine code (then nothing ran at all). Used by test_kernel_sandbox.py.
"""

from __future__ import annotations

from dataclasses import dataclass

REFUSED = "this machine cannot confine it"
DENIED = "Permission denied"
NOT_PERMITTED = "Operation not permitted"
SIGSYS = "forbidden system call"
SECRET_TEXT = "the other session's private conversation"


@dataclass(frozen=True)
class Attack:
    name: str
    body: str
    expect: tuple[str, ...]
    leaks: bool = False
    """The attack returns what it read: the tool's output must not contain the secret."""


ATTACKS = [
    Attack("read /etc/passwd", "return open('/etc/passwd').read()", (DENIED,), leaks=True),
    Attack("read another session's conversation", "return open({secret!r}).read()", (DENIED,), leaks=True),
    Attack("read the victim through /proc/self/root",
           "return open('/proc/self/root' + {victim!r}).read()", (DENIED,), leaks=True),
    Attack("write outside via dir_fd",
           "import os\n"
           "fd = os.open({outside!r}, os.O_RDONLY | os.O_DIRECTORY)\n"
           "os.close(os.open('pwned.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd))", (DENIED,)),
    Attack("write outside via a hard link",
           "import os\nos.link({victim!r}, 'alias.txt')\nopen('alias.txt', 'w').write('pwned')",
           ("Invalid cross-device link", NOT_PERMITTED, DENIED)),
    Attack("write outside via a symlink",
           "import os\nos.symlink({victim!r}, 'alias.txt')\nopen('alias.txt', 'w').write('pwned')", (DENIED,)),
    Attack("write outside via sqlite3.connect",
           "import sqlite3\nsqlite3.connect({outside!r} + '/pwned.db').execute('create table t (x)')",
           ("unable to open database file",)),
    Attack("fchmod a runtime file and chmod the victim",
           "import os\nfd = os.open(os.__file__, os.O_RDONLY)\nos.fchmod(fd, 0o777)\nos.chmod({victim!r}, 0o777)",
           (NOT_PERMITTED, DENIED)),
    Attack("write outside after replacing os.path.realpath",
           "import os\nos.path.realpath = lambda path, **kw: os.getcwd()\nopen({victim!r}, 'w').write('pwned')",
           (DENIED,)),
    Attack("disable the checks through gc, then write outside",
           "import gc, sys\n"
           "for obj in gc.get_objects():\n"
           "    try:\n"
           "        for cell in obj.__closure__ or ():\n"
           "            if isinstance(cell.cell_contents, str):\n"
           "                cell.cell_contents = '/'\n"
           "    except Exception:\n"
           "        pass\n"
           "open({victim!r}, 'w').write('pwned')", (DENIED, "ended without a result")),
    # (rewriting every string in every closure also rewrites the runner's nonce: the run's result is then void)
    Attack("run /bin/sh through _posixsubprocess.fork_exec",
           "import _posixsubprocess, os\n"
           "r, w = os.pipe()\n"
           "cmd = [b'/bin/sh', b'-c', b'echo pwned > ' + {outside!r}.encode() + b'/sh.txt']\n"
           "args = [cmd, [b'/bin/sh'], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, False, False, -1,\n"
           "        None, None, None, -1, None]\n"
           "try:\n"
           "    _posixsubprocess.fork_exec(*args, False)\n"
           "except TypeError:\n"
           "    _posixsubprocess.fork_exec(*args)", (SIGSYS,)),
    Attack("run /bin/sh through multiprocessing.util.spawnv_passfds",
           "import multiprocessing.util\n"
           "multiprocessing.util.spawnv_passfds(b'/bin/sh', [b'/bin/sh', b'-c', b'echo pwned > {outside}/mp.txt'], ())",
           (SIGSYS,)),
    Attack("run a shell through os.system", "import os\nos.system('echo pwned > {outside}/system.txt')", (SIGSYS,)),
    Attack("load a shared object it wrote with ctypes",
           "import base64, ctypes\n"
           "open('evil.so', 'wb').write(base64.b64decode({so_b64!r}))\n"
           "ctypes.CDLL('./evil.so')", ("failed to map segment", NOT_PERMITTED)),
    Attack("a setsid child that outlives the sandbox",
           "import os, time\n"
           "if os.fork() == 0:\n"
           "    os.setsid()\n"
           "    time.sleep(2)\n"
           "    open({outside!r} + '/late.txt', 'w').write('still here')\n"
           "    os._exit(0)", (SIGSYS,)),
    Attack("start 20 children",
           "import os\nfor _ in range(20):\n    if os.fork() == 0:\n        import time\n        time.sleep(30)",
           (SIGSYS,)),
    Attack("start 20 threads",
           "import threading, time\n"
           "for _ in range(20):\n    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()",
           ("can't start new thread",)),
    Attack("open /proc/self/mem read-write", "open('/proc/self/mem', 'r+b').read(1)", (DENIED,)),
    Attack("signal the parent", "import os\nos.kill(os.getppid(), 0)", (NOT_PERMITTED,)),
    Attack("ptrace the parent",
           "import ctypes, os\n"
           "libc = ctypes.CDLL(None, use_errno=True)\n"
           "if libc.ptrace(16, os.getppid(), 0, 0) != 0:\n"
           "    raise OSError(ctypes.get_errno(), 'ptrace failed')", (SIGSYS,)),
    Attack("forge the result line, then os._exit(0)",
           "import os, sys\n"
           "line = '@@SANDBOX_RESULT@@{{\"ok\": true, \"value\": []}}'\n"
           "print(line)\nsys.stdout.flush()\nsys.__stdout__.write(line + '\\n')\nsys.__stdout__.flush()\n"
           "os.write(1, (line + '\\n').encode())\nos._exit(0)", ("ended without a result",)),
    Attack("print 300 MB on stdout",
           "import os\nchunk = b'x' * (1 << 20)\nfor _ in range(300):\n    os.write(1, chunk)",
           ("printed more than",)),
    Attack("open an AF_UNIX socket",
           "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('/run/systemd/private')", (NOT_PERMITTED,)),
    Attack("open an AF_INET socket to the test's server",
           "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'pwned')",
           (NOT_PERMITTED,)),
    Attack("open an AF_INET6 and an AF_NETLINK socket",
           "import socket\nsocket.socket(socket.AF_INET6)\nsocket.socket(socket.AF_NETLINK, socket.SOCK_RAW)",
           (NOT_PERMITTED,)),
    Attack("a socketpair", "import socket\nsocket.socketpair()", (NOT_PERMITTED,)),
    Attack("write to /tmp", "open('/tmp/tunesmith-sandbox-escape.txt', 'w').write('pwned')", (DENIED,)),
]
"""At least every attack named in issue 14, plus close relatives of each family."""
