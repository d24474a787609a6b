"""Every attack of tests/security/sandbox_attacks.py straight through ``run_python``, one line each.

    python3 tests/bench/sandbox_direct.py

Needs only the standard library and synth/sandbox*.py, so any Python 3.11+ can run it as any user:
the way to check the unprivileged path (what CI runs) on a machine where tunesmith runs as root,
e.g. ``su someone -c "python3 tests/bench/sandbox_direct.py"`` from a checkout that user can read.
Exit 0 when every attack was stopped and reported.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
import socket
import sys
import sysconfig
import tempfile
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [REPO, os.path.join(REPO, "tests", "security")]

from sandbox_attacks import ATTACKS, REFUSED, SECRET_TEXT  # noqa: E402 - needs the sys.path above

from synth.sandbox import kernel_support, run_python  # noqa: E402 - needs the sys.path above


def main() -> int:
    print(f"uid {os.getuid()}: {kernel_support()}")
    shared = min(glob.glob(os.path.join(sysconfig.get_config_var("DESTSHARED") or "", "*.so")), key=os.path.getsize)
    root = tempfile.mkdtemp()
    outside = os.path.join(root, "outside")
    os.mkdir(outside)
    victim = os.path.join(root, "victim.txt")
    secret = os.path.join(root, "conversation.jsonl")
    with open(victim, "w") as handle:
        handle.write("original")
    with open(secret, "w") as handle:
        handle.write(SECRET_TEXT)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    world = {"outside": outside, "victim": victim, "secret": secret, "port": server.getsockname()[1],
             "so_b64": base64.b64encode(open(shared, "rb").read()).decode()}
    good = 0
    for attack in ATTACKS:
        code = f"def _attack():\n{textwrap.indent(attack.body.format(**world), '    ')}\n\ndef f(p):\n    return _attack()\n"
        result = run_python(code, "f", None, timeout_s=10)
        text = (result.error or "") + json.dumps(result.value, default=str)
        try:
            server.accept()
            connected = True
        except OSError:
            connected = False
        stopped = (open(victim).read() == "original" and not os.listdir(outside) and not connected
                   and SECRET_TEXT not in text and "root:x:0" not in text)
        reported = bool(re.search("|".join(map(re.escape, (*attack.expect, REFUSED))), text))
        good += stopped and reported
        first = (result.error or "no error").splitlines()[0][:100]
        print(f"{'stopped' if stopped else 'NOT STOPPED'}{'' if reported else ', NOT REPORTED'}: {attack.name}: {first}")
    print(f"{good}/{len(ATTACKS)} stopped and reported")
    return 0 if good == len(ATTACKS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
