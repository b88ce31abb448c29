"""What one agent's PhoneBar shows, computed from the controller's state (pure).

The hub sends this view whole whenever it changes, so a PhoneBar that reconnects only has to
render the next view: there is no event stream to replay. See docs/phonebar.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from server.calls.model import AgentRuntime, Call, Leg

if TYPE_CHECKING:
    from server.calls.control import CallControl

# History rows of the caller shown in the screen pop.
History = list[dict[str, Any]]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def waiting_by_service(control: CallControl) -> dict[int, list[dict[str, Any]]]:
    """The calls waiting in each service's queue, oldest first (computed once per publish)."""
    names = {s.id: s.name for s in control.services.values()}
    waiting: dict[int, list[dict[str, Any]]] = {}
    for call in sorted(control.calls.values(), key=lambda c: c.created_at):
        if call.state == "queued" and call.service_id is not None:
            waiting.setdefault(call.service_id, []).append(
                {
                    "interaction_id": call.interaction_id,
                    "service": names.get(call.service_id, ""),
                    "ani": call.ani,
                    "since": _iso(call.created_at),
                }
            )
    return waiting


def own_view(
    control: CallControl, agent: AgentRuntime, history: dict[int, History] | None = None
) -> dict[str, Any]:
    """The part of a view only this agent has: their state, their call, their wrap-up."""
    names = {s.id: s.name for s in control.services.values() if s.tenant_id == agent.tenant_id}
    call = control.calls.get(agent.interaction_id or 0)
    return {
        "agent": {
            "state": agent.state,
            "reason": agent.reason,
            "since": _iso(agent.since),
            "device": agent.device,
            "devices": dict(agent.online),
        },
        "call": _call_view(call, agent, names, history or {}) if call is not None else None,
        "wrap_up": _wrap_up_view(control, agent),
    }


def served_services(control: CallControl, agent: AgentRuntime) -> tuple[int, ...]:
    """The ids of the services of the agent's tenant whose skills the agent meets."""
    return tuple(
        sorted(
            s.id
            for s in control.services.values()
            if s.tenant_id == agent.tenant_id and s.can_serve(agent.skills)
        )
    )


def queue_view(
    served: tuple[int, ...], waiting: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The calls waiting in these services, oldest first (shared by agents who serve them)."""
    queue = [item for service_id in served for item in waiting.get(service_id, [])]
    queue.sort(key=lambda item: str(item["since"]))
    return queue


def services_view(control: CallControl, tenant_id: int) -> list[dict[str, Any]]:
    """The tenant's services, by name (for transfers)."""
    services = [s for s in control.services.values() if s.tenant_id == tenant_id]
    return [{"id": s.id, "name": s.name} for s in sorted(services, key=lambda s: s.name)]


def directory_entry(agent: AgentRuntime) -> dict[str, Any]:
    """One agent as the directory shows them."""
    return {
        "id": agent.user_id,
        "username": agent.username,
        "display_name": agent.display_name,
        "extension": agent.extension,
        "state": agent.state,
    }


def directory(control: CallControl, tenant_id: int) -> list[dict[str, Any]]:
    """Every agent of a tenant with their state (for transfers and calls between agents)."""
    return [
        directory_entry(a)
        for a in sorted(control.agents.values(), key=lambda a: a.username)
        if a.tenant_id == tenant_id
    ]


def _party(leg: Leg) -> dict[str, Any]:
    return {"id": leg.channel, "kind": leg.kind, "label": leg.label, "state": leg.state}


def _call_view(
    call: Call, agent: AgentRuntime, names: dict[int, str], history: dict[int, History]
) -> dict[str, Any]:
    handling = call.agent_id == agent.user_id
    if handling:
        state = {"offered": "ringing", "dialing": "dialing"}.get(call.state, "connected")
        if call.held:
            state = "held"
        ani, name = call.ani, call.name
    elif call.callee_id == agent.user_id:  # called by another agent
        state = "ringing" if call.state == "dialing" else "connected"
        ani, name = call.agent_label, call.agent_label
    else:  # consulted, or in a conference
        leg = call.legs.get(call.leg_of_agent(agent.user_id) or "")
        state = leg.state if leg is not None else "connected"
        ani, name = call.agent_label, call.agent_label
    # The others in the call (never the viewer themself).
    parties = [
        _party(leg)
        for leg in call.legs.values()
        if leg.role == "party" and leg.agent_id != agent.user_id
    ]
    if handling:
        customer_state = "held" if call.held else "connected"
        if call.state in ("dialing", "offered"):
            customer_state = "ringing" if call.state == "dialing" else "connected"
        kind = "agent" if call.direction == "internal" else "customer"
        label = call.name or call.ani if call.direction == "internal" else call.ani
        parties.insert(
            0, {"id": call.caller_channel, "kind": kind, "label": label, "state": customer_state}
        )
    consult = call.consult_leg()
    return {
        "interaction_id": call.interaction_id,
        "direction": call.direction,
        "state": state,
        "ani": ani,
        "dnis": call.dnis,
        "name": name,
        "service": names.get(call.service_id or 0, ""),
        "since": _iso(call.created_at),
        "answered_at": _iso(call.answered_at),
        "muted": call.muted if handling else False,
        "recording": call.recording,
        "parties": parties,
        "consult": (
            {"label": consult.label, "state": consult.state, "id": consult.channel}
            if consult is not None and handling
            else None
        ),
        "history": history.get(call.interaction_id, []),
    }


def _wrap_up_view(control: CallControl, agent: AgentRuntime) -> dict[str, Any] | None:
    call = agent.wrap_up_call
    if agent.state != "wrap_up" or call is None:
        return None
    service = control.services.get(call.service_id or 0)
    return {
        "interaction_id": call.interaction_id,
        "service": service.name if service else "",
        "until": _iso(agent.wrap_up_until),
        "disposition_codes": list(service.disposition_codes) if service else [],
    }
