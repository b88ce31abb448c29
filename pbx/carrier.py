"""The plan of a "carrier" Asterisk: a stand-in for the PSTN in tests, benchmarks and the demo.

It has one trunk to the platform, identified by the platform's address and port (so that
everything can share 127.0.0.1), and phone accounts
that register to it: a phone dialling a number reaches the platform over the trunk, and a
number the platform dials rings the carrier phone registered under that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pbx.config import Endpoint, PbxPlan

PHONES_CONTEXT = "carrier-phones"
FROM_PLATFORM_CONTEXT = "carrier-from-platform"


@dataclass(frozen=True)
class CarrierPhone:
    """A SIP account on the carrier (a PSTN subscriber)."""

    username: str
    password: str


def carrier_plan(
    platform_host: str, platform_port: int, phones: Sequence[CarrierPhone] = ()
) -> PbxPlan:
    """The carrier's endpoints: the platform trunk and its phone accounts."""
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
    return PbxPlan(endpoints=[trunk, *accounts], dialplan="carrier.conf.j2", app="carrier")
