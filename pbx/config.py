"""Render an Asterisk instance's configuration from our data and the templates in pbx/templates.

The renderer is pure: it takes a `PbxPlan` (what to provision) and an `InstanceLayout`
(where and on which ports) and returns file contents. Writing them is `write_config`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from dialplans import TEMPLATE_DIR as DIALPLAN_DIR

TEMPLATE_DIR = Path(__file__).parent / "templates"

# chan_pjsip needs res_pjsip_pubsub on this build; everything else is what the engine uses.
MODULES: tuple[str, ...] = (
    "res_timing_timerfd.so",
    "res_crypto.so",
    "res_sorcery_astdb.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_memory_cache.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_pubsub.so",
    "res_pjsip_session.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_registrar.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_header_funcs.so",
    "res_pjsip_nat.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_diversion.so",
    "res_pjsip_transport_websocket.so",
    "res_pjsip_logger.so",
    "chan_pjsip.so",
    # Announcer and Recorder channels: music on hold and recording of a whole bridge.
    "chan_bridge_media.so",
    "res_rtp_asterisk.so",
    "res_srtp.so",
    "res_http_websocket.so",
    "res_websocket_client.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "res_stasis_device_state.so",
    "res_ari.so",
    "res_ari_model.so",
    "res_ari_applications.so",
    "res_ari_asterisk.so",
    "res_ari_bridges.so",
    "res_ari_channels.so",
    "res_ari_device_states.so",
    "res_ari_endpoints.so",
    "res_ari_events.so",
    "res_ari_playbacks.so",
    "res_ari_recordings.so",
    "res_ari_sounds.so",
    "app_stasis.so",
    "res_musiconhold.so",
    "res_security_log.so",
    "bridge_simple.so",
    "bridge_softmix.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    "bridge_builtin_features.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_a_mu.so",
    "codec_gsm.so",
    "codec_resample.so",
    "codec_opus_open_source.so",
    "res_format_attr_opus.so",
    "format_wav.so",
    "format_gsm.so",
    "format_pcm.so",
    "format_sln.so",
    "pbx_config.so",
    "app_dial.so",
    "app_playback.so",
    "app_playtones.so",
    "app_echo.so",
    "app_queue.so",
    "app_senddtmf.so",
    "app_verbose.so",
    "func_callerid.so",
    "func_channel.so",
    "func_strings.so",
    "func_logic.so",
    "func_cut.so",
    "func_pjsip_endpoint.so",
    "func_pjsip_contact.so",
    "func_pjsip_aor.so",
    "func_rand.so",
)

_env = jinja2.Environment(
    loader=jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(TEMPLATE_DIR)), jinja2.FileSystemLoader(str(DIALPLAN_DIR))]
    ),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)


@dataclass(frozen=True)
class Ports:
    """Every port an instance listens on; all configurable so instances run side by side."""

    sip: int
    http: int
    ami: int
    rtp_start: int
    rtp_end: int


@dataclass(frozen=True)
class Credentials:
    """A user name and secret (ARI or AMI)."""

    user: str
    password: str

    @staticmethod
    def generate(user: str) -> Credentials:
        """New credentials with a long random secret."""
        return Credentials(user, secrets.token_urlsafe(24))


@dataclass(frozen=True)
class OutboundAuth:
    """Credentials Asterisk presents to a peer (trunk) that challenges it."""

    username: str
    password: str


@dataclass(frozen=True)
class Registration:
    """An outbound registration of a trunk to its provider."""

    server_uri: str
    client_uri: str


@dataclass(frozen=True)
class AccountRegistration:
    """An outbound registration as someone else's SIP account, without an endpoint of ours.

    The carrier in bench/routed_calls.py registers to the platform as each agent this way,
    so the platform's calls to an agent arrive at the carrier addressed to `contact_user`.
    """

    name: str
    server_uri: str
    client_uri: str
    username: str
    password: str
    contact_user: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One PJSIP endpoint with its AOR and optional auth, identify and registration."""

    name: str
    context: str
    comment: str = ""
    username: str = ""
    password: str = ""
    contact: str = ""
    identify_match: str = ""
    outbound_auth: OutboundAuth | None = None
    registration: Registration | None = None
    callerid: str = ""
    from_user: str = ""
    codecs: str = "ulaw,alaw,opus"
    language: str = "en"
    qualify_s: int = 0
    # A browser's endpoint (WebSocket transport, DTLS-SRTP and ICE).
    webrtc: bool = False


@dataclass(frozen=True)
class PbxPlan:
    """What an instance provisions: endpoints and which dialplan template it runs."""

    endpoints: Sequence[Endpoint] = ()
    dialplan: str = "platform.conf.j2"
    app: str = "phones"
    with_app_queue: bool = False
    queue_members: Sequence[str] = ()
    # How long a caller waits (with music) for a restarting engine before being hung up.
    engine_wait_s: int = 30
    registrations: Sequence[AccountRegistration] = ()
    # The registrations leave from their own transport on this port (0: no such transport),
    # so that a peer identifying us by address and port does not take them for our trunk.
    registration_port: int = 0


# The number the platform routes to Asterisk's app_queue when `with_app_queue` is on (bench only).
BENCH_APP_QUEUE_NUMBER = "9990000999"


@dataclass(frozen=True)
class InstanceLayout:
    """Where an instance's files live as Asterisk sees them, and how it is reached."""

    name: str
    root: Path
    bind: str
    ports: Ports
    ari: Credentials
    ami: Credentials
    modules_dir: str = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
    data_dir: str = "/usr/share/asterisk"
    external_address: str = ""
    verbose: bool = False
    ami_permit: Sequence[str] = field(default_factory=tuple)

    def dirs(self) -> Mapping[str, str]:
        """Asterisk's directories for this instance."""
        return {
            "etc": str(self.root / "etc"),
            "lib": str(self.root / "lib"),
            "varlib": str(self.root / "lib"),
            "spool": str(self.root / "spool"),
            "run": str(self.root / "run"),
            "log": str(self.root / "log"),
            "cache": str(self.root / "cache"),
            "modules": self.modules_dir,
            "data": self.data_dir,
        }


def render(layout: InstanceLayout, plan: PbxPlan) -> dict[str, str]:
    """Return {file name: contents} for every config file of the instance."""
    context = {
        "name": layout.name,
        "dirs": layout.dirs(),
        "bind": layout.bind,
        "ports": layout.ports,
        "ari": layout.ari,
        "ami": layout.ami,
        "ami_permit": list(layout.ami_permit),
        "ari_allowed_origins": "*",
        "modules": MODULES,
        "verbose": layout.verbose,
        "external_address": layout.external_address,
        "endpoints": list(plan.endpoints),
        "app": plan.app,
        "dialplan": plan.dialplan,
        "with_app_queue": plan.with_app_queue,
        "engine_wait_s": plan.engine_wait_s,
        "bench_app_queue_number": BENCH_APP_QUEUE_NUMBER,
        "registrations": list(plan.registrations),
        "registration_port": plan.registration_port,
    }
    files = {
        name: _env.get_template(f"{name}.j2").render(context)
        for name in (
            "asterisk.conf",
            "modules.conf",
            "logger.conf",
            "http.conf",
            "ari.conf",
            "manager.conf",
            "rtp.conf",
            "musiconhold.conf",
            "pjsip.conf",
            "extensions.conf",
        )
    }
    files["extensions_phones.conf"] = _env.get_template(plan.dialplan).render(context)
    files["queues.conf"] = _render_queues(plan)
    # Modules we load read these; present and empty so the log shows only real problems.
    for quiet in ("features", "acl", "udptl", "pjproject", "websocket_client", "stasis"):
        files[f"{quiet}.conf"] = "; defaults\n"
    # CDR and CEL are off: our own interaction events are the history.
    files["cdr.conf"] = "[general]\nenable = no\n"
    files["cel.conf"] = "[general]\nenable = no\n"
    return files


def _render_queues(plan: PbxPlan) -> str:
    # Only the app_queue comparison in bench/routed_calls.py uses a native queue.
    lines = ["[general]", "persistentmembers = no", ""]
    if plan.with_app_queue:
        # autofill: every waiting caller that has a free member is connected at once, not
        # only the head of the queue (which leaves the others to recheck once a second).
        lines += ["[bench]", "strategy = leastrecent", "timeout = 15", "ringinuse = no"]
        lines += ["autofill = yes"]
        lines += ["joinempty = yes", "leavewhenempty = no", "announce-frequency = 0"]
        lines += [f"member => {member}" for member in plan.queue_members]
    return "\n".join(lines) + "\n"


def write_config(etc_dir: Path, files: Mapping[str, str]) -> bool:
    """Write the files into etc_dir; return True when anything changed."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    changed = False
    for name, text in files.items():
        path = etc_dir / name
        if path.exists() and path.read_text() == text:
            continue
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        tmp.replace(path)
        changed = True
    return changed
