"""Find an Asterisk ≥ 20 to run, or bootstrap one into a cached Debian sid chroot.

Asterisk is not packaged for Debian 12; Debian sid carries Asterisk 22. For development,
tests and the demo we build a minimal sid root with debootstrap once, cache it under the
user's cache directory keyed on the package list, and run Asterisk inside it with chroot.
Production installs Asterisk natively instead (docs/decisions/0002-asterisk-runtime.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGES: tuple[str, ...] = (
    "asterisk",
    "asterisk-modules",
    "asterisk-config",
    "asterisk-moh-opsound-gsm",
    "asterisk-core-sounds-en-gsm",
    "asterisk-core-sounds-it-gsm",
    "asterisk-espeak",
    "espeak-ng-data",
    "sox",
)
SUPPORTED_MAJORS = range(20, 23)
_ROOT_FORMAT = "1"


class AsteriskUnavailable(RuntimeError):
    """No usable Asterisk could be found or built; the message says what to do."""


@dataclass(frozen=True)
class AsteriskRuntime:
    """How to run Asterisk: natively (chroot is None) or inside a chroot."""

    binary: str
    chroot: Path | None
    version: str

    @property
    def major(self) -> int:
        """The major version number, e.g. 22."""
        return int(self.version.split(".")[0])

    def host_path(self, path: Path) -> Path:
        """Map a path as Asterisk sees it to the host path."""
        if self.chroot is None:
            return path
        return self.chroot / path.relative_to("/")

    def command(self, *args: str) -> list[str]:
        """The argv that runs the Asterisk binary with args."""
        if self.chroot is None:
            return [self.binary, *args]
        return ["chroot", str(self.chroot), self.binary, *args]


def cache_dir() -> Path:
    """The user's cache directory for phones (XDG_CACHE_HOME aware)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "phones"


def chroot_path(packages: Sequence[str] = PACKAGES) -> Path:
    """Where the chroot for this package list lives (key: hash of the list)."""
    key = hashlib.sha256(("\n".join([_ROOT_FORMAT, *sorted(packages)])).encode()).hexdigest()
    return cache_dir() / f"asterisk-sid-{key[:12]}"


def parse_version(text: str) -> str:
    """Extract '22.1.0' from `asterisk -V` output ('Asterisk 22.1.0~dfsg+~cs6.15.60671435-1')."""
    match = re.search(r"Asterisk\s+(\d+\.\d+(?:\.\d+)?)", text)
    if match is None:
        raise AsteriskUnavailable(f"cannot read the Asterisk version from {text.strip()!r}")
    return match.group(1)


def _probe(command: list[str]) -> str | None:
    try:
        done = subprocess.run([*command, "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return parse_version(done.stdout)


def _check_major(version: str, where: str) -> None:
    major = int(version.split(".")[0])
    if major not in SUPPORTED_MAJORS:
        raise AsteriskUnavailable(
            f"Asterisk {version} at {where} is not supported: phones needs Asterisk 20 to 22"
        )


def find_runtime(configured: str | None = None, *, bootstrap: bool = True) -> AsteriskRuntime:
    """Return a runnable Asterisk: the configured binary, one on PATH, or the cached chroot."""
    if configured:
        version = _probe([configured])
        if version is None:
            raise AsteriskUnavailable(
                f"the configured Asterisk binary {configured!r} does not run "
                "(check PHONES_ASTERISK_BINARY / [asterisk] binary)"
            )
        _check_major(version, configured)
        return AsteriskRuntime(configured, None, version)
    on_path = shutil.which("asterisk")
    if on_path:
        version = _probe([on_path])
        if version is not None and int(version.split(".")[0]) in SUPPORTED_MAJORS:
            return AsteriskRuntime(on_path, None, version)
    root = chroot_path()
    if not (root / ".complete").exists():
        if not bootstrap:
            raise AsteriskUnavailable(
                "no Asterisk 20-22 found on PATH and the chroot is not built; "
                "run `make asterisk` (or `phones asterisk bootstrap`)"
            )
        build_chroot(root)
    version = (root / ".version").read_text().strip()
    _check_major(version, str(root))
    return AsteriskRuntime("/usr/sbin/asterisk", root, version)


def debian_mirror() -> str:
    """The Debian mirror this machine's apt already uses (never hard-coded)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for line in path.read_text().splitlines():
            if line.startswith("URIs:"):
                for uri in line.split()[1:]:
                    if "security" not in uri:
                        return uri.rstrip("/")
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if parts[:1] == ["deb"] and "security" not in line:
                uri = next(p for p in parts[1:] if "://" in p)
                return uri.rstrip("/")
    raise AsteriskUnavailable("cannot find a Debian mirror in /etc/apt/sources.list(.d)")


def _say(message: str) -> None:
    print(f"[phones] {message}", file=sys.stderr, flush=True)


def _run(command: list[str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise AsteriskUnavailable(
            f"building the Asterisk chroot failed at `{' '.join(command)}`:\n{tail}\n"
            f"(full log: {log}). Install Asterisk 20-22 yourself and set "
            "PHONES_ASTERISK_BINARY, or fix the error above and run `make asterisk` again."
        )


def build_chroot(root: Path, packages: Sequence[str] = PACKAGES) -> None:
    """Build the Debian sid chroot with Asterisk, once, under a lock shared by parallel runs."""
    root.parent.mkdir(parents=True, exist_ok=True)
    lock_path = root.with_suffix(".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / ".complete").exists():
            return
        if os.geteuid() != 0:
            raise AsteriskUnavailable(
                "bootstrapping Asterisk needs root (debootstrap, chroot); run `sudo make asterisk` "
                "once, or install Asterisk 20-22 and set PHONES_ASTERISK_BINARY"
            )
        if shutil.which("debootstrap") is None:
            raise AsteriskUnavailable("debootstrap is missing: `apt-get install debootstrap`")
        log = root.with_suffix(".log")
        log.write_text("")
        if root.exists():
            _umount_proc(root)
            shutil.rmtree(root)
        mirror = debian_mirror()
        _say(f"bootstrapping Asterisk: Debian sid into {root} (about a minute; log: {log})")
        _run(["debootstrap", "--variant=minbase", "sid", str(root), mirror], log)
        apt_conf = root / "etc/apt/apt.conf.d/99phones"
        apt_conf.write_text(
            'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n'
        )
        _say("installing Asterisk packages into the chroot")
        _run(["chroot", str(root), "apt-get", "update"], log)
        env_cmd = ["chroot", str(root), "env", "DEBIAN_FRONTEND=noninteractive"]
        _run([*env_cmd, "apt-get", "install", "-y", "--no-install-recommends", *packages], log)
        _run(["chroot", str(root), "apt-get", "clean"], log)
        done = subprocess.run(
            ["chroot", str(root), "/usr/sbin/asterisk", "-V"], capture_output=True, text=True
        )
        version = parse_version(done.stdout)
        _check_major(version, str(root))
        (root / ".version").write_text(version + "\n")
        (root / ".complete").write_text("\n".join(packages) + "\n")
        _say(f"Asterisk {version} ready in {root}")


def _umount_proc(root: Path) -> None:
    proc = root / "proc"
    if os.path.ismount(proc):
        subprocess.run(["umount", "-l", str(proc)], check=False)
