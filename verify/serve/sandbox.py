"""The SPARQL workers' network guard: a seccomp filter that makes every new socket fail.

Oxigraph answers `SERVICE <url>` by fetching the URL itself, so a query that slipped past the
federation check would make the server a proxy and a port scanner. A worker therefore installs,
before it opens the store, a filter under which socket() fails with EACCES for every address
family: the worker needs no new socket at all, because its one channel to the server is the
socketpair it inherits, and refusing AF_UNIX and AF_PACKET too keeps it away from local daemons
and raw packets when the server runs as root. io_uring_setup is refused as well, since io_uring
can open sockets without the socket() system call. Once installed the filter cannot be removed,
and every thread the process starts later inherits it (TSYNC covers any that exist already).

Linux on x86-64 and AArch64 only; anywhere else `deny_network` raises SandboxUnavailable and the
endpoint refuses to start unless its caller explicitly allows running without the guard.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct
import sys

from kg.errors import FwcError

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
RET_KILL_PROCESS = 0x80000000
X32_SYSCALL_BIT = 0x40000000
# Offsets into struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
NR, ARCH = 0, 4
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06


class Arch:
    """What the filter needs to know about one architecture's system calls."""

    def __init__(self, audit: int, seccomp: int, socket: int, io_uring_setup: int, x32: bool):
        self.audit, self.seccomp, self.socket = audit, seccomp, socket
        self.io_uring_setup, self.x32 = io_uring_setup, x32


ARCHES = {
    "x86_64": Arch(0xC000003E, seccomp=317, socket=41, io_uring_setup=425, x32=True),
    "aarch64": Arch(0xC00000B7, seccomp=277, socket=198, io_uring_setup=425, x32=False),
}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SandboxUnavailable(FwcError):
    """This platform cannot stop the SPARQL workers from opening sockets."""


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def bpf_program(arch: Arch) -> bytes:
    """The filter: another architecture's calls kill the process; socket() and io_uring_setup()
    fail with EACCES; every other call is allowed."""
    # Each check jumps to DENY when it matches; the x32 ABI numbers the same calls differently,
    # so all of it is refused rather than filtered by number.
    checks = [(JGE_K, X32_SYSCALL_BIT)] if arch.x32 else []
    checks += [(JEQ_K, arch.socket), (JEQ_K, arch.io_uring_setup)]
    n = len(checks)
    prog = [_insn(LD_W_ABS, ARCH), _insn(JEQ_K, arch.audit, jt=0, jf=n + 3), _insn(LD_W_ABS, NR)]
    prog += [_insn(op, k, jt=n - i) for i, (op, k) in enumerate(checks)]
    prog += [_insn(RET_K, RET_ALLOW), _insn(RET_K, RET_ERRNO | errno.EACCES)]
    prog.append(_insn(RET_K, RET_KILL_PROCESS))
    return b"".join(prog)


def deny_network() -> None:
    """Install the filter in this process, then prove it holds; raises SandboxUnavailable."""
    arch = ARCHES.get(platform.machine()) if sys.platform == "linux" else None
    if arch is None:
        raise SandboxUnavailable(
            f"cannot keep SPARQL workers off the network on {sys.platform}/{platform.machine()}"
            " (a seccomp filter needs Linux on x86-64 or AArch64)"
        )
    libc = ctypes.CDLL(None, use_errno=True)
    # Both are variadic in C: give the widths explicitly rather than let ctypes pass ints.
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    libc.syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_void_p]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl(NO_NEW_PRIVS) failed: {_errno()}")
    code = bpf_program(arch)
    insns = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(insns, ctypes.c_void_p))
    flags = SECCOMP_FILTER_FLAG_TSYNC
    if libc.syscall(arch.seccomp, SECCOMP_SET_MODE_FILTER, flags, ctypes.addressof(prog)) != 0:
        raise SandboxUnavailable(f"seccomp(SET_MODE_FILTER) failed: {_errno()}")
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return
    raise SandboxUnavailable("the seccomp filter is installed but a socket could still be opened")


def _errno() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({code})"
