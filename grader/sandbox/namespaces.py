"""Linux namespaces for student processes: own user, network and mount namespace.

Standard library only: `launch.py` imports this file and its neighbours `mounts.py` (what the
sandbox sees of the file system) and `syscalls.py` (ctypes over libc) from their folder in a fresh
`python -I` (the `grader` package is not importable there); the grader imports them as
`grader.sandbox.namespaces`.

`enter(plan)` turns the calling (single-threaded) process into a sandboxed one, right before it
`exec`s the student's kernel or worker:

1. **User namespace.** The process becomes uid 0 inside a new user namespace (or joins the one of
   a namespace holder, see `hold`). A root grader maps that uid 0 to an unprivileged kernel uid
   (`UID_BASE + pid` of the namespace's creator, so every sandbox has its own) and maps the real
   root to uid 1 inside, so root-owned files stay readable; a non-root grader maps uid 0 to its
   own uid (the only mapping the kernel allows it). Either way the student holds no capability
   outside the namespace: it cannot `setns` back into the machine's network, unmount what hides
   the project, or read `/proc/<grader>/environ`; and because the kernel uid is not 0,
   `RLIMIT_NPROC` is enforced and counted per namespace (= per sandbox).
2. **Network namespace** with only `lo`, brought up here (or the holder's namespace, shared by the
   processes of one federated round).
3. **Mount namespace**: every mount read-only; a fresh sysfs (so /sys/class/net lists `lo`
   only); the grader's home, project tree and temporary folders (plus whatever the plan adds)
   covered by empty tmpfs; the sandbox's own workspace (writable) and the read-only paths it needs
   (the grader package, the Python installation, targets of the workspace's symlinks) bound back
   at their real paths (symlinks resolved); every symlink met on the way to them (the stack's
   `.tox` linked to a bigger disk under `/tmp`, a data folder that is a link, a base interpreter
   reached through one) that a tmpfs covered is made again inside, with the same text, so the
   link and its target both work; a private `/dev/shm`.
4. **Capabilities**: the bounding set keeps only the file-access ones (DAC override, read search,
   fowner) for the exec'd program, and `no_new_privs` disables set-uid binaries.

Resource limits are applied by the caller after `enter` (RLIMIT_NPROC must be set after the user
namespace exists: the kernel caps the new namespace at the creator's current limit).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import socket
import struct
import sys

from .mounts import (inside, links_on_the_way, named_paths, setup_mounts, symlink_targets,
                     workspace, workspace_links)
from .syscalls import (CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, PartialSandbox, SandboxError,
                       c_library, check, setns, unshare)

__all__ = ["PartialSandbox", "SandboxError", "UID_BASE", "enter", "hold", "links_on_the_way"]

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
CAP_SETPCAP, CAP_SYS_ADMIN = 8, 21
KEPT_CAPS = (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER)

SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFF_UP, IFF_RUNNING = 0x1, 0x40

UID_BASE = 1_500_000_000
"""A root grader's sandbox with creator pid P runs as kernel uid UID_BASE + P (unused elsewhere)."""


def bring_loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP | IFF_RUNNING))


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def new_user_namespace():
    """Unshare a user namespace and become uid/gid 0 in it (see the module docstring)."""
    if os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        unshare(CLONE_NEWUSER)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1\n")
        _write("/proc/self/gid_map", f"0 {gid} 1\n")
        return
    # Root: only a process outside the new namespace may write a two-line map, so a short-lived
    # child (still in the parent namespace) writes it once this process has unshared.
    outsider = UID_BASE + os.getpid()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(ready_w)
            if os.read(ready_r, 1) == b"1":
                mapping = f"0 {outsider} 1\n1 0 1\n"
                _write(f"/proc/{os.getppid()}/uid_map", mapping)
                _write(f"/proc/{os.getppid()}/gid_map", mapping)
                status = 0
        finally:
            os._exit(status)
    os.close(ready_r)
    try:
        unshare(CLONE_NEWUSER)
    except BaseException:
        os.write(ready_w, b"0")
        os.close(ready_w)
        os.waitpid(pid, 0)
        raise
    os.write(ready_w, b"1")
    os.close(ready_w)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SandboxError(errno.EPERM, "writing the user namespace's uid/gid map failed")
    _become_inner_root()


def _become_inner_root():
    """uid/gid 0 of the namespace (a root grader arrives as uid 1, the real root's image)."""
    try:
        os.setgroups([])
    except PermissionError:
        pass  # an unprivileged namespace has setgroups denied (and no extra groups)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def namespace_inode(pid, kind):
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino


def join(holder):
    """Enter the user and network namespace of a holder {"pid", "user", "net"} (inodes checked)."""
    fds = {}
    try:
        for kind in ("user", "net"):
            fd = os.open(f"/proc/{int(holder['pid'])}/ns/{kind}", os.O_RDONLY)
            fds[kind] = fd
            if os.fstat(fd).st_ino != int(holder[kind]):
                raise SandboxError(errno.ESRCH, "the network namespace holder is gone")
        setns(fds["user"], CLONE_NEWUSER)
        setns(fds["net"], CLONE_NEWNET)
    finally:
        for fd in fds.values():
            os.close(fd)
    _become_inner_root()



def drop_privileges(kept=KEPT_CAPS):
    """Keep only the file-access capabilities (`kept`) for the exec'd program; no set-uid
    elevation."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except OSError:
        last = 40
    prctl = c_library().prctl
    for cap in range(last + 1):
        if cap not in kept:
            check(prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0), "PR_CAPBSET_DROP")
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")



def enter(plan, cwd=None, env=None, argv=()):
    """Apply the namespace part of `plan` to this process. Returns what was applied; raises
    SandboxError when a step is impossible here (the caller decides whether that is fatal)."""
    cwd = cwd or os.getcwd()
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        raise SandboxError(errno.ENOSYS, f"namespaces need Linux (this is {sys.platform})")
    holder = plan.get("join")
    if holder:  # where the platform forbids namespaces, one of these fails: no sandbox at all
        join(holder)
    else:
        new_user_namespace()
        unshare(CLONE_NEWNET)
        bring_loopback_up()
    try:
        unshare(CLONE_NEWNS)
        hidden = sorted({os.path.realpath(p) for p in plan.get("hidden", ())})
        home = workspace(cwd, env, hidden)
        named = {p for p in named_paths(env, argv) if any(inside(p, h) and p != h for h in hidden)}
        keep = {os.path.realpath(p) for p in plan.get("keep", ())} | named
        keep = sorted(p for p in keep if not inside(p, home))
        targets = symlink_targets(home, hidden)
        keep += [t for t in targets if not inside(t, home)]
        # the paths as the process will use them (through links): their links must work inside
        used = (set(plan.get("keep", ())) | set(plan.get("links", ())) | {cwd}
                | named_paths(env, argv, resolve=False)
                | {env[k] for k in ("HOME", "TMPDIR") if env.get(k, "").startswith("/")}
                | set(workspace_links(home)))
        links = sorted({link for path in used for link in links_on_the_way(path)})
        setup_mounts(hidden, keep, [home], links)
        os.chdir(cwd)  # re-resolve the cwd through the new mounts
        # a fork server keeps what its forks need to make a PID namespace each; every fork
        # drops it before student code runs (pid_namespace.py)
        nested = (CAP_SETPCAP, CAP_SYS_ADMIN) if plan.get("fork_namespaces") else ()
        drop_privileges(KEPT_CAPS + nested)
    except OSError as exc:  # half a sandbox is neither isolated nor a plain process: give up
        raise PartialSandbox(exc.errno, f"{exc} (while setting up the mount namespace)") from exc
    return {"workspace": home, "joined": bool(holder)}


def hold(plan):
    """A namespace holder: new user + network namespace, lo up; prints its namespaces as JSON
    and waits until stdin closes. Processes started with `join` share its loopback."""
    new_user_namespace()
    unshare(CLONE_NEWNET)
    bring_loopback_up()
    check(c_library().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    me = os.getpid()
    sys.stdout.write(json.dumps({"pid": me, "user": namespace_inode(me, "user"),
                                 "net": namespace_inode(me, "net")}) + "\n")
    sys.stdout.flush()
    while sys.stdin.buffer.read(4096):
        pass
