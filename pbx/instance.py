"""Start, stop, adopt and health-check one managed Asterisk instance.

An instance runs in its own session (setsid) with its output in files, so that a crash or a
SIGKILL of the engine leaves Asterisk and its calls running; a restarted engine adopts it
through the pid file and AMI. In chroot mode each instance gets a private mount namespace
with the chroot's /proc and its own directory bind-mounted at /instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pbx.ami import AmiClient, AmiError
from pbx.config import Credentials, InstanceLayout, PbxPlan, Ports, render, write_config
from pbx.runtime import AsteriskRuntime

CHROOT_MOUNT = Path("/instance")


class AsteriskFailed(RuntimeError):
    """Asterisk did not start or stopped answering; the message carries the log tail."""


@dataclass(frozen=True)
class InstanceSettings:
    """What the operator (or a test) chooses for an instance."""

    name: str
    directory: Path
    bind: str = "127.0.0.1"
    ports: Ports | None = None
    external_address: str = ""
    verbose: bool = False


def free_port(bind: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free now on bind (TCP by default)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((bind, 0))
        return int(sock.getsockname()[1])


def _udp_tcp_free(bind: str, port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((bind, port))
            except OSError:
                return False
    return True


def allocate_ports(bind: str = "127.0.0.1", rtp_span: int = 400) -> Ports:
    """Free ports for SIP, HTTP, AMI and an RTP range, so instances run side by side."""
    sip = free_port(bind, socket.SOCK_DGRAM)
    while not _udp_tcp_free(bind, sip):
        sip = free_port(bind, socket.SOCK_DGRAM)
    http, ami = free_port(bind), free_port(bind)
    # RTP ranges of concurrent instances must not overlap: pick a block by pid and time.
    seed = (os.getpid() * 7919 + int(time.time() * 1000)) % 90
    rtp_start = 20000 + seed * rtp_span
    return Ports(sip, http, ami, rtp_start, rtp_start + rtp_span - 1)


class AsteriskInstance:
    """One Asterisk process managed by phones, with its rendered config and credentials."""

    def __init__(self, runtime: AsteriskRuntime, settings: InstanceSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.dir = settings.directory.resolve()
        state = self._load_state()
        ports = settings.ports or (state.ports if state else allocate_ports(settings.bind))
        self.ari = state.ari if state else Credentials.generate("phones")
        self.ami = state.ami if state else Credentials.generate("phones")
        root = CHROOT_MOUNT if runtime.chroot else self.dir
        self.layout = InstanceLayout(
            name=settings.name,
            root=root,
            bind=settings.bind,
            ports=ports,
            ari=self.ari,
            ami=self.ami,
            external_address=settings.external_address,
            verbose=settings.verbose,
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ports(self) -> Ports:
        """The instance's ports."""
        return self.layout.ports

    @property
    def ari_url(self) -> str:
        """Base URL of ARI."""
        return f"http://{self._connect_host()}:{self.ports.http}/ari"

    @property
    def log_dir(self) -> Path:
        """Host directory with Asterisk's logs."""
        return self.dir / "log"

    @property
    def spool_dir(self) -> Path:
        """Host directory with Asterisk's spool (recordings)."""
        return self.dir / "spool"

    def _connect_host(self) -> str:
        return "127.0.0.1" if self.settings.bind in ("0.0.0.0", "") else self.settings.bind

    def ami_client(self, events: bool = False) -> AmiClient:
        """A new, unconnected AMI client for this instance (events only if asked for)."""
        return AmiClient(
            self._connect_host(), self.ports.ami, self.ami.user, self.ami.password, events
        )

    # -- state file: credentials and ports survive an engine restart (adoption) --
    @dataclass(frozen=True)
    class _State:
        ports: Ports
        ari: Credentials
        ami: Credentials

    def _state_path(self) -> Path:
        return self.dir / "instance.json"

    def _load_state(self) -> AsteriskInstance._State | None:
        path = self.dir / "instance.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        return AsteriskInstance._State(
            Ports(**raw["ports"]), Credentials(**raw["ari"]), Credentials(**raw["ami"])
        )

    def _save_state(self) -> None:
        data = {
            "ports": asdict(self.layout.ports),
            "ari": asdict(self.ari),
            "ami": asdict(self.ami),
        }
        path = self._state_path()
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)

    # -- configuration --
    def write_config(self, plan: PbxPlan) -> bool:
        """Render the plan into the instance's etc directory; True when anything changed."""
        # spool/recording: where ARI recordings go (Asterisk does not create it itself).
        for sub in ("etc", "lib", "lib/keys", "spool", "spool/recording", "run", "log", "cache"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._save_state()
        return write_config(self.dir / "etc", render(self.layout, plan))

    async def reload(self, plan: PbxPlan, ami: AmiClient) -> bool:
        """Re-render and reload PJSIP and the dialplan; calls in progress are not dropped."""
        if not self.write_config(plan):
            return False
        await ami.command("module reload res_pjsip.so")
        await ami.command("dialplan reload")
        if plan.with_app_queue:
            await ami.command("queue reload all")  # bench only: members follow the agents
        return True

    # -- lifecycle --
    def pid(self) -> int | None:
        """The pid of the running instance, from its pid file, if it is alive."""
        path = self.dir / "run" / "asterisk.pid"
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"asterisk" in cmdline else None

    def start_process(self) -> None:
        """Spawn Asterisk in its own session; returns at once (see wait_booted)."""
        log = (self.dir / "log" / "console.log").open("ab")
        if self.runtime.chroot is not None:
            root = self.runtime.chroot
            (root / "instance").mkdir(exist_ok=True)
            script = (
                'mount -t proc proc "$1/proc" && mount --bind "$2" "$1/instance" && '
                'exec chroot "$1" /usr/sbin/asterisk -C /instance/etc/asterisk.conf -f -n'
            )
            argv = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                script,
                "asterisk-instance",
                str(root),
                str(self.dir),
            ]
        else:
            argv = [self.runtime.binary, "-C", str(self.dir / "etc" / "asterisk.conf"), "-f", "-n"]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        log.close()

    async def wait_booted(self, timeout: float = 60.0) -> None:
        """Wait until AMI answers and Asterisk is fully booted; raise with the log tail if not."""
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AsteriskFailed(
                    f"Asterisk {self.settings.name} exited with code {self.process.returncode}"
                    f"\n{self.log_tail()}"
                )
            if await self.is_fully_booted():
                return
            last_error = "AMI not answering or not fully booted"
            await asyncio.sleep(0.1)
        raise AsteriskFailed(
            f"Asterisk {self.settings.name} did not boot in {timeout:.0f}s ({last_error})"
            f"\n{self.log_tail()}"
        )

    async def is_fully_booted(self) -> bool:
        """True when AMI answers and reports Asterisk fully booted."""
        client = self.ami_client()
        try:
            await client.connect(timeout=2.0)
            output = await client.command("core waitfullybooted", timeout=5.0)
            return "fully booted" in output.lower()
        except AmiError:
            return False
        finally:
            await client.close()

    async def start(self, plan: PbxPlan, timeout: float = 60.0) -> bool:
        """Adopt a running instance or start a new one; True when adopted."""
        self.write_config(plan)
        if self.pid() is not None and await self.is_fully_booted():
            return True
        self.start_process()
        await self.wait_booted(timeout)
        return False

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop Asterisk (SIGTERM, then SIGKILL after timeout)."""
        pid = self.pid() or (self.process.pid if self.process else None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            if self.process is not None and self.process.pid == pid:
                self.process.poll()
            await asyncio.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            (self.dir / "run" / "asterisk.pid").unlink()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the console and messages logs."""
        out = []
        for name in ("console.log", "messages.log"):
            path = self.log_dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(out) or f"(no logs in {self.log_dir})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return status != "Z"
