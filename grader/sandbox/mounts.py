"""The sandbox's mount namespace: what student code sees of the file system.

Every mount read-only; the hidden folders (the grader's home, project tree, temporary folders)
covered by empty tmpfs; the sandbox's workspace (writable) and the read-only paths it needs bound
back at their real paths; the symlinks met on the way to them made again inside; a private
/dev/shm (see `namespaces.py` for the whole sandbox). Standard library only (`launch.py`).
"""
from __future__ import annotations

import os
import stat

from .syscalls import (MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
                       SandboxError, mount, set_read_only)

SHM_BYTES = 512 * 1024 ** 2
MAX_WALK = 5000  # entries of the workspace scanned for symlinks that point into hidden folders


def inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def workspace(cwd, env, hidden):
    """The sandbox's writable folder: the folder just below a hidden one that holds the cwd (a
    submission's whole temporary tree), else the common folder of cwd, HOME and TMPDIR."""
    cwd = os.path.realpath(cwd)
    for folder in sorted(hidden, key=len, reverse=True):
        if inside(cwd, folder) and cwd != folder:
            first = os.path.relpath(cwd, folder).split(os.sep)[0]
            return os.path.join(folder, first)
    candidates = [cwd] + [os.path.realpath(env[k]) for k in ("HOME", "TMPDIR") if env.get(k)]
    common = os.path.commonpath(candidates)
    return common if common.count(os.sep) >= 2 else cwd


def symlink_targets(root, hidden):
    """Targets of symlinks under `root` that lie in hidden folders (the run directory links the
    CIFAR-100 files and the course library; they must stay readable)."""
    found = []
    for path in workspace_links(root):
        target = os.path.realpath(path)
        if os.path.exists(target) and any(inside(target, h) for h in hidden):
            found.append(target)
    return found


def workspace_links(root):
    """The symlinks under `root` (the run directory's links to the data and the course library)."""
    found, seen = [], 0
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            seen += 1
            if seen > MAX_WALK:
                return found
            path = os.path.join(folder, name)
            if os.path.islink(path):
                found.append(path)
    return found


MAX_HOPS = 40  # symlinks followed while resolving one path (as the kernel's ELOOP limit)


def links_on_the_way(path):
    """The symlinks met while resolving the absolute `path`, as [(link, its text)], in order
    (a link's text may name further links: they follow). Missing parts end the walk."""
    found, hops = [], 0
    parts = [p for p in os.path.abspath(path).split(os.sep) if p]
    current = "/"
    while parts:
        name = parts.pop(0)
        if name == ".":
            continue
        if name == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        if not os.path.islink(candidate):
            if not os.path.exists(candidate):
                break
            current = candidate
            continue
        hops += 1
        if hops > MAX_HOPS:
            break
        text = os.readlink(candidate)
        found.append((candidate, text))
        if text.startswith("/"):
            current = "/"
        parts = [p for p in text.split(os.sep) if p] + parts
    return found


def recreate_links(links, hidden, mounted):
    """Make each (link, text) again where a tmpfs over a hidden folder covered it (nothing is
    written anywhere else: not in a bound-back folder, not outside the hidden ones)."""
    for link, text in links:
        if os.path.lexists(link) or not any(inside(link, h) and link != h for h in hidden) \
                or any(inside(link, m) for m in mounted):
            continue
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(text, link)


def setup_mounts(hidden, keep, writable, links=()):
    """Private mounts; tmpfs over `hidden`; `keep` (read-only) and `writable` bound back; `links`
    ((path, text) symlinks, see `recreate_links`) made again in the tmpfs; all else read-only;
    a private /dev/shm. Paths must be absolute and resolved (`links` are as found)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    writable = [w for w in writable if os.path.isdir(w)]
    hidden = [h for h in hidden if os.path.isdir(h)
              and not any(inside(h, k) for k in keep)]  # never hide what must be seen
    late = [h for h in hidden if any(inside(h, w) and h != w for w in writable)
            and not any(inside(w, h) for w in writable)]  # inside the workspace: hidden on top
    hidden = [h for h in hidden if not any(inside(h, o) and h != o for o in hidden)
              and not any(inside(h, w) for w in writable)]
    writable = sorted(set(writable))
    keep = sorted({k for k in keep if os.path.exists(k) and any(inside(k, h) for h in hidden)}
                  - set(writable))
    keep = [k for k in keep if not any(inside(k, o) and k != o for o in keep + writable)]
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in keep + writable}
    for folder in hidden:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for path in sorted(keep + writable, key=len):  # a writable folder is always a mount of its own
        if stat.S_ISDIR(os.fstat(fds[path]).st_mode):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.exists(path):
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
        mount(f"/proc/self/fd/{fds[path]}", path, None, MS_BIND | MS_REC)
        os.close(fds[path])
    recreate_links(links, hidden, keep + writable)
    for folder in late:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    try:  # a sysfs of this network namespace: /sys/class/net lists its interfaces (lo), not the host's
        mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except SandboxError:
        pass
    set_read_only("/", True)
    for path in writable:
        set_read_only(path, False)
    for folder in late:
        set_read_only(folder, True)
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={SHM_BYTES}")



def named_paths(env, argv, resolve=True):
    """Existing absolute paths named in the environment or the command line: the grader put them
    there for the student process (PATH, PYTHONPATH, the config file, the worker script...).
    Real paths, or as written with `resolve=False`."""
    found = set()
    for value in list(env.values()) + list(argv):
        for part in str(value).split(os.pathsep):
            if part.startswith("/") and len(part) < 4096 and os.path.exists(part):
                found.add(os.path.realpath(part) if resolve else os.path.abspath(part))
    return found

