"""The plan of a "carrier" Asterisk: a stand-in for the PSTN in tests, benchmarks and the demo.

It has one trunk to the platform, identified by the platform's address and port (so that
everything can share 127.0.0.1), and phone accounts
that register to it: a phone dialling a number reaches the platform over the trunk, and a
number the platform dials rings the carrier phone registered under that name.

For benchmarks the carrier can also stand in for agents' phones: it registers to the
platform as each agent (from a second port, so the platform does not take the registrations
for the trunk) and answers the platform's calls to them at once (`agent...` extensions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pbx.config import AccountRegistration, Endpoint, PbxPlan

PHONES_CONTEXT = "carrier-phones"
FROM_PLATFORM_CONTEXT = "carrier-from-platform"


@dataclass(frozen=True)
class CarrierPhone:
    """A SIP account on the carrier (a PSTN subscriber)."""

    username: str
    password: str


@dataclass(frozen=True)
class AgentAccount:
    """A platform agent's SIP account the carrier registers as; calls to it reach `contact_user`.

    `contact_user` must start with "agent" (the carrier answers those extensions itself).
    """

    username: str
    password: str
    contact_user: str


def carrier_plan(
    platform_host: str,
    platform_port: int,
    phones: Sequence[CarrierPhone] = (),
    agents: Sequence[AgentAccount] = (),
    agents_port: int = 0,
) -> PbxPlan:
    """The carrier's endpoints: the platform trunk and its phone accounts.

    With `agents`, the carrier also registers to the platform as each of them, from
    `agents_port` (which must differ from the carrier's SIP port when the platform identifies
    the carrier by address and port).
    """
    trunk = Endpoint(
        name="platform",
        context=FROM_PLATFORM_CONTEXT,
        comment="trunk to the phones platform",
        contact=f"sip:{platform_host}:{platform_port}",
        identify_match=f"{platform_host}:{platform_port}",
    )
    accounts = [
        Endpoint(
            name=phone.username,
            context=PHONES_CONTEXT,
            comment="carrier subscriber",
            username=phone.username,
            password=phone.password,
        )
        for phone in phones
    ]
    platform = f"{platform_host}:{platform_port}"
    registrations = [
        AccountRegistration(
            name=f"as-{agent.username}",
            server_uri=f"sip:{platform}",
            client_uri=f"sip:{agent.username}@{platform}",
            username=agent.username,
            password=agent.password,
            contact_user=agent.contact_user,
        )
        for agent in agents
    ]
    return PbxPlan(
        endpoints=[trunk, *accounts],
        dialplan="carrier.conf.j2",
        app="carrier",
        registrations=registrations,
        registration_port=agents_port if agents else 0,
    )
