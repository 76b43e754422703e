"""A seccomp filter for the jail, in the spirit of Codex CLI's: syscalls tests never need fail with EPERM.

The classic-BPF program checks the architecture first (a syscall of another ABI, e.g. i386 `int 0x80` or x32
on x86_64, kills the process: its numbers mean other calls), then answers EPERM for the denied numbers and
allows everything else. bwrap loads it with `--seccomp FD` right before it execs the command.
"""

from __future__ import annotations

import os
import platform
import struct

# struct seccomp_data: int nr; __u32 arch; ...
_OFFSET_NR, _OFFSET_ARCH = 0, 4
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_X32_SYSCALL_BIT = 0x40000000
EPERM = 1

# Why each is denied: debugging other processes, kernel attack surface unprivileged code never needs
# (io_uring, keyrings, eBPF, perf, userfaultfd), mounts and namespaces, modules, kexec, host clock and
# identity, raw I/O ports, handle-based opens (the classic container escape), cross-process memory.
DENIED = frozenset({
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
    "mount_setattr", "setns", "unshare",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "lookup_dcookie",
    "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "name_to_handle_at", "open_by_handle_at",
})
_X86_ONLY = {"iopl": 172, "ioperm": 173, "modify_ldt": 154}

# Checked against /usr/include/x86_64-linux-gnu/asm/unistd_64.h and asm-generic/unistd.h (aarch64).
_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "pidfd_getfd": 438,
    "process_madvise": 440, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "mount": 165, "umount2": 166, "pivot_root": 155, "move_mount": 429, "open_tree": 428, "fsopen": 430,
    "fsmount": 432, "fsconfig": 431, "fspick": 433, "mount_setattr": 442, "setns": 308, "unshare": 272,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
    "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179, "syslog": 103,
    "lookup_dcookie": 212, "sethostname": 170, "setdomainname": 171, "settimeofday": 164, "clock_settime": 227,
    "clock_adjtime": 305, "adjtimex": 159, "name_to_handle_at": 303, "open_by_handle_at": 304,
}
_AARCH64 = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "pidfd_getfd": 438,
    "process_madvise": 440, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
    "mount": 40, "umount2": 39, "pivot_root": 41, "move_mount": 429, "open_tree": 428, "fsopen": 430,
    "fsmount": 432, "fsconfig": 431, "fspick": 433, "mount_setattr": 442, "setns": 268, "unshare": 97,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
    "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60, "syslog": 116,
    "lookup_dcookie": 18, "sethostname": 161, "setdomainname": 162, "settimeofday": 170, "clock_settime": 112,
    "clock_adjtime": 266, "adjtimex": 171, "name_to_handle_at": 264, "open_by_handle_at": 265,
}
# machine -> (AUDIT_ARCH_*, syscall table, numbers at or above this belong to another ABI)
_ARCHES = {
    "x86_64": (0xC000003E, {**_X86_64, **_X86_ONLY}, _X32_SYSCALL_BIT),
    "aarch64": (0xC00000B7, _AARCH64, None),
}


def supported() -> bool:
    return platform.machine() in _ARCHES


def syscall_numbers() -> dict[str, int]:
    """The denied syscalls of this machine, by name (empty where the filter is not supported)."""
    return dict(_ARCHES[platform.machine()][1]) if supported() else {}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program() -> bytes:
    """The filter as struct sock_filter[] (native byte order), for this machine's architecture."""
    arch, table, foreign_from = _ARCHES[platform.machine()]
    numbers = sorted(set(table.values()))
    deny_at = len(numbers)  # jump distances below are counted from the instruction after the jump
    body = [_insn(_LD_W_ABS, _OFFSET_ARCH), None, _insn(_LD_W_ABS, _OFFSET_NR)]
    if foreign_from is not None:
        body.append(None)
    checks = [_insn(_JEQ_K, nr, jt=deny_at - i) for i, nr in enumerate(numbers)]
    tail = [_insn(_RET_K, _RET_ALLOW), _insn(_RET_K, _RET_ERRNO | EPERM), _insn(_RET_K, _RET_KILL_PROCESS)]
    to_kill_from = lambda index: len(body) + len(checks) + 2 - index - 1  # noqa: E731
    body[1] = _insn(_JEQ_K, arch, jt=0, jf=to_kill_from(1))
    if foreign_from is not None:
        body[3] = _insn(_JGE_K, foreign_from, jt=to_kill_from(3), jf=0)
    return b"".join([*body, *checks, *tail])  # type: ignore[list-item]


def filter_fd() -> int | None:
    """A memfd holding the program, positioned at 0, for `bwrap --seccomp FD`; the caller
    closes it after the run. None where the architecture has no table (doctor reports it)."""
    if not supported():
        return None
    fd = os.memfd_create("greenloop-seccomp")
    os.write(fd, program())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
