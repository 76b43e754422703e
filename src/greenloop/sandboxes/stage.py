"""Root only: the stage between greenloop and an unprivileged bwrap.

Run as `unshare --mount --propagation private -- python -I -S stage.py SPEC_JSON`. In its private mount
namespace (as root) it bind-mounts paths that uid 65534 could not reach (e.g. an interpreter under a 0700
/root) into a traversable staging directory, then drops to the sandbox uid for good (no groups, no
capabilities, no_new_privs) and execs bwrap, which builds the jail as an unprivileged user.
This file imports nothing from greenloop, so it starts fast under -I -S.
"""

import ctypes
import json
import os
import sys

MS_BIND = 4096
MS_REC = 16384
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
SIGKILL = 9


def main() -> None:
    spec = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    for src, dst in spec["mounts"]:
        if libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None) != 0:
            err = ctypes.get_errno()
            sys.stderr.write(f"greenloop stage: cannot bind {src}: {os.strerror(err)}\n")
            sys.exit(125)
    uid, gid = spec["uid"], spec["gid"]
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        sys.exit(125)
    # The uid change cleared the parent-death signal set before exec; set it again, then make sure
    # greenloop did not die in between (the jail must never outlive its run).
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != spec["parent"]:
        sys.exit(125)
    os.execv(spec["argv"][0], spec["argv"])


if __name__ == "__main__":
    main()
