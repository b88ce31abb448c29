"""The PhoneBar's commands: its configuration, device choice, call control, the queue.

Every call command goes to the call controller (server/calls/agent_calls.py, dialling.py),
which moves channels through ARI; the browser's SIP stack only carries media. State comes back
over the hub (server/hub.py). docs/phonebar.md describes the whole contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.api.framework import STAFF, ApiError, Caller, path_id
from server.api.routes import api, engine_of
from server.api.schemas import Strict
from server.ari import AriError
from server.calls import agent_calls, dialling
from server.calls.reach import CommandError
from server.db import repositories as repo
from server.db.models import AgentProfile, Service, Tenant, User
from server.provisioning import web_endpoint_name

AGENT = frozenset({"agent"})


class SipAccount(BaseModel):
    """How the PhoneBar's softphone registers."""

    ws_url: str
    uri: str
    authorization_user: str
    password: str
    display_name: str


class AgentInfo(BaseModel):
    id: int
    username: str
    display_name: str
    extension: str | None


class TenantInfo(BaseModel):
    slug: str
    name: str


class ServiceInfo(BaseModel):
    id: int
    name: str
    disposition_codes: list[str]


class PhonebarConfig(BaseModel):
    """Everything the PhoneBar needs to start."""

    agent: AgentInfo
    tenant: TenantInfo
    language: str
    sip: SipAccount
    not_ready_reasons: list[str]
    services: list[ServiceInfo]
    grace_s: float
    can_dial_out: bool


class DeviceChange(Strict):
    """Which device rings: the browser softphone, a SIP phone, or auto (browser if online)."""

    device: Literal["auto", "browser", "phone"]


class DeviceReply(BaseModel):
    device: str
    devices: dict[str, bool]


class Target(Strict):
    """Exactly one of: an agent, a service, a number (through the trunk), an extension."""

    agent_id: int | None = None
    service_id: int | None = None
    number: str | None = Field(None, pattern=r"^\+?[0-9]{2,32}$")
    extension: str | None = Field(None, pattern=r"^[0-9]{2,8}$")


class PlaceCall(Strict):
    """Call a number or another agent (my device rings first and answers by itself)."""

    to: Target
    service_id: int | None = None


class Placed(BaseModel):
    interaction_id: int


class TransferRequest(Strict):
    to: Target


class MuteRequest(Strict):
    muted: bool


class DtmfRequest(Strict):
    digits: str = Field(pattern=r"^[0-9A-D*#]{1,32}$")


class Done(BaseModel):
    ok: bool = True


def _target(body: TransferRequest | PlaceCall) -> dict[str, Any]:
    return body.to.model_dump(exclude_none=True)


async def _run(request: web.Request, work: Callable[[], Awaitable[None]]) -> Done:
    """Run a command in the controller; its refusal becomes an API error."""
    control = engine_of(request).call_control()
    try:
        await control.command(work)
    except CommandError as exc:
        raise ApiError(exc.status, str(exc)) from exc
    except AriError as exc:  # a channel went away under us, or Asterisk refused
        raise ApiError(409, f"the call changed while doing that: {exc}") from exc
    return Done()


def _sip_host(request: web.Request) -> str:
    bind = engine_of(request).config.asterisk.bind
    return "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind


def _ws_url(request: web.Request) -> str:
    engine = engine_of(request)
    configured = engine.config.phonebar.sip_ws_url
    if configured:
        return configured
    assert engine.asterisk is not None
    return f"ws://{_sip_host(request)}:{engine.asterisk.ports.http}/ws"


@api.route(
    "GET",
    "/api/v1/phonebar/config",
    summary="What the PhoneBar needs to start: SIP account, reasons, services",
    reply=PhonebarConfig,
    roles=AGENT,
    tag="phonebar",
)
async def phonebar_config(request: web.Request, *, user: Caller) -> PhonebarConfig:
    engine = engine_of(request)
    async with engine.db_session() as session:
        person = await session.get_one(User, user.user_id)
        profile = await session.get(AgentProfile, user.user_id)
        tenant = await session.get_one(Tenant, user.tenant_id)
        services = await session.scalars(
            select(Service).where(Service.tenant_id == user.tenant_id).order_by(Service.name)
        )
        rows = [
            ServiceInfo(id=s.id, name=s.name, disposition_codes=list(s.disposition_codes or []))
            for s in services
        ]
    if profile is None:
        raise ApiError(404, "you have no agent profile (no SIP account)")
    web_user = web_endpoint_name(profile.sip_username)
    return PhonebarConfig(
        agent=AgentInfo(
            id=person.id,
            username=person.username,
            display_name=person.display_name,
            extension=profile.extension,
        ),
        tenant=TenantInfo(slug=tenant.slug, name=tenant.name),
        language=person.language or tenant.language,
        sip=SipAccount(
            ws_url=_ws_url(request),
            uri=f"sip:{web_user}@{_sip_host(request)}",
            authorization_user=web_user,
            password=profile.sip_password,
            display_name=person.display_name,
        ),
        not_ready_reasons=list(tenant.not_ready_reasons),
        services=rows,
        grace_s=engine.config.phonebar.grace_s,
        can_dial_out=profile.can_dial_out,
    )


@api.route(
    "PUT",
    "/api/v1/agents/me/device",
    summary="Choose the device my calls ring: browser, phone, or auto",
    body=DeviceChange,
    reply=DeviceReply,
    roles=AGENT,
    tag="phonebar",
)
async def change_device(request: web.Request, *, user: Caller, body: DeviceChange) -> DeviceReply:
    control = engine_of(request).call_control()
    agent = control.agents.get(user.user_id)
    if agent is None:
        raise ApiError(404, "you have no agent profile (no SIP account)")

    async def work() -> None:
        agent.device = body.device
        if agent.state == "ready":
            # The router must know whether the newly chosen device can ring.
            control.router.agent_not_ready(str(agent.user_id))
            await control.dispatch_offers(control.make_ready(agent))

    await _run(request, work)
    return DeviceReply(device=agent.device, devices=dict(agent.online))


@api.route(
    "POST",
    "/api/v1/calls",
    summary="Call a number through the trunk, or another agent",
    body=PlaceCall,
    reply=Placed,
    roles=AGENT,
    status=201,
    tag="calls",
)
async def place_call(request: web.Request, *, user: Caller, body: PlaceCall) -> Placed:
    control = engine_of(request).call_control()
    placed: list[int] = []

    async def work() -> None:
        placed.append(
            await dialling.place_call(control, user.user_id, _target(body), body.service_id)
        )

    await _run(request, work)
    return Placed(interaction_id=placed[0])


def _simple(path: str, summary: str, action: Callable[[Any, int, int], Awaitable[None]]) -> None:
    """Register a body-less command on one of my calls."""

    async def handler(request: web.Request, *, user: Caller) -> Done:
        control = engine_of(request).call_control()
        interaction_id = path_id(request, "interaction_id")
        return await _run(request, lambda: action(control, user.user_id, interaction_id))

    handler.__name__ = "call_" + path.rsplit("}/", 1)[-1].replace("/", "_")
    api.route("POST", path, summary=summary, reply=Done, roles=AGENT, tag="calls")(handler)


CALL = "/api/v1/calls/{interaction_id}"
_simple(f"{CALL}/hangup", "Hang up my side of a call (or reject its offer)", agent_calls.hangup)
_simple(
    f"{CALL}/hold",
    "Put the other side on hold (music)",
    lambda c, a, i: agent_calls.hold(c, a, i, True),
)
_simple(
    f"{CALL}/resume",
    "Take the other side off hold",
    lambda c, a, i: agent_calls.hold(c, a, i, False),
)
_simple(
    f"{CALL}/consult/complete",
    "Complete an attended transfer",
    agent_calls.consult_complete,
)
_simple(f"{CALL}/consult/cancel", "Cancel a consultation", agent_calls.consult_cancel)
_simple(
    f"{CALL}/consult/swap", "Swap between customer and consulted party", agent_calls.consult_swap
)
_simple(
    f"{CALL}/consult/conference",
    "Join customer and consulted party in a conference",
    agent_calls.consult_conference,
)


def _with_body(
    name: str,
    path: str,
    summary: str,
    body_model: type[BaseModel],
    action: Callable[[Any, int, int, Any], Awaitable[None]],
) -> None:
    """Register a command on one of my calls that takes a JSON body."""

    async def handler(request: web.Request, *, user: Caller, body: Any) -> Done:
        control = engine_of(request).call_control()
        interaction_id = path_id(request, "interaction_id")
        return await _run(request, lambda: action(control, user.user_id, interaction_id, body))

    handler.__name__ = name
    api.route("POST", path, summary=summary, body=body_model, reply=Done, roles=AGENT, tag="calls")(
        handler
    )


_with_body(
    "call_mute",
    f"{CALL}/mute",
    "Mute or unmute my voice",
    MuteRequest,
    lambda c, a, i, b: agent_calls.mute(c, a, i, b.muted),
)
_with_body(
    "call_dtmf",
    f"{CALL}/dtmf",
    "Send DTMF digits to the other side",
    DtmfRequest,
    lambda c, a, i, b: agent_calls.dtmf(c, a, i, b.digits),
)
_with_body(
    "call_transfer",
    f"{CALL}/transfer",
    "Blind transfer to an agent, a service or a number",
    TransferRequest,
    lambda c, a, i, b: agent_calls.transfer(c, a, i, _target(b)),
)
_with_body(
    "call_consult",
    f"{CALL}/consult",
    "Consult an agent or a number (attended transfer); the customer holds",
    TransferRequest,
    lambda c, a, i, b: agent_calls.consult(c, a, i, _target(b)),
)


@api.route(
    "POST",
    f"{CALL}/parties/{{party}}/drop",
    summary="Drop a party from my conference",
    reply=Done,
    roles=AGENT,
    tag="calls",
)
async def call_drop_party(request: web.Request, *, user: Caller) -> Done:
    control = engine_of(request).call_control()
    interaction_id = path_id(request, "interaction_id")
    party = request.match_info["party"]
    return await _run(
        request, lambda: agent_calls.drop_party(control, user.user_id, interaction_id, party)
    )


@api.route(
    "POST",
    "/api/v1/queue/{interaction_id}/take",
    summary="Take a waiting call out of order (cherry-pick)",
    reply=Done,
    roles=AGENT,
    tag="calls",
)
async def take_from_queue(request: web.Request, *, user: Caller) -> Done:
    control = engine_of(request).call_control()
    interaction_id = path_id(request, "interaction_id")
    return await _run(request, lambda: agent_calls.take(control, user.user_id, interaction_id))


@api.route(
    "GET",
    "/api/v1/interactions/{interaction_id}/recording",
    summary="The recording of an interaction (WAV)",
    roles=STAFF,
    tag="interactions",
)
async def recording(request: web.Request, *, user: Caller) -> web.Response:
    engine = engine_of(request)
    interaction_id = path_id(request, "interaction_id")
    async with engine.db_session() as session:
        interaction = await repo.get_interaction(
            session, user.tenant_id, interaction_id, with_events=True
        )
    if interaction is None:
        raise ApiError(404, f"interaction {interaction_id} not found")
    names = [e.data.get("name") for e in interaction.events if e.type == "recording_started"]
    if not names or engine.ari is None:
        raise ApiError(404, f"interaction {interaction_id} has no recording")
    try:
        audio = await engine.ari.stored_recording(str(names[-1]))
    except AriError as exc:
        raise ApiError(404, f"the recording of interaction {interaction_id} is gone") from exc
    return web.Response(body=audio, content_type="audio/wav")
