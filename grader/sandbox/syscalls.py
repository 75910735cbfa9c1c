"""The system calls behind the sandbox's namespaces and mounts (ctypes over libc, Linux only).

Standard library only, like `namespaces.py` and `mounts.py`: `launch.py` loads these files from
this folder in a fresh `python -I` where the `grader` package is not importable.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
SYS_MOUNT_SETATTR = 442  # the same number on x86_64 and arm64 (generic syscall table)


class SandboxError(OSError):
    """A namespace step failed (the message names the step)."""


class PartialSandbox(SandboxError):
    """A step after the user namespace failed: the process must not run student code."""


_libc = None


def c_library():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def check(result, what):
    if result == -1:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags):
    check(c_library().unshare(ctypes.c_int(flags)), f"unshare({flags:#x})")


def setns(fd, nstype):
    check(c_library().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), f"setns({nstype:#x})")


def mount(source, target, fstype, flags, data=None):
    enc = (lambda s: None if s is None else os.fsencode(s))
    check(c_library().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source} on {target}")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def set_read_only(path, read_only=True, recursive=True):
    """mount_setattr(2) on the mount at `path` (and below); falls back to remounting each."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY,
                      0, 0)
    lib = c_library()
    lib.syscall.restype = ctypes.c_long
    result = lib.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD),
                          os.fsencode(path), ctypes.c_uint(AT_RECURSIVE if recursive else 0),
                          ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    if result == 0:
        return
    if ctypes.get_errno() != errno.ENOSYS:
        check(-1, f"mount_setattr {path}")
    _remount_each(path, read_only, recursive)  # kernels before 5.12


_LOCKED_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}


def _remount_each(path, read_only, recursive):
    path = os.path.abspath(path)
    with open("/proc/self/mountinfo") as handle:
        entries = [line.split() for line in handle]
    for fields in entries:
        point = fields[4].replace("\\040", " ")
        inside = point == path or (recursive and (path == "/" or point.startswith(path + "/")))
        if not inside:
            continue
        flags = MS_REMOUNT | MS_BIND | (MS_RDONLY if read_only else 0)
        for option in fields[5].split(","):
            flags |= _LOCKED_OPTIONS.get(option, 0)
        try:
            mount(None, point, None, flags)
        except SandboxError:
            if point == path:
                raise  # the mount asked for must change; submounts we cannot touch stay as they are

