"""Rendering Asterisk's configuration from our data (pure)."""

from __future__ import annotations

import re
from pathlib import Path

from pbx.carrier import AgentAccount, CarrierPhone, carrier_plan
from pbx.config import (
    BENCH_APP_QUEUE_NUMBER,
    MODULES,
    Credentials,
    Endpoint,
    InstanceLayout,
    PbxPlan,
    Ports,
    render,
)


def _layout() -> InstanceLayout:
    return InstanceLayout(
        "t",
        Path("/instance"),
        "127.0.0.1",
        Ports(5070, 8090, 5039, 20000, 20099),
        Credentials("ari", "a" * 32),
        Credentials("ami", "b" * 32),
    )


def test_every_port_is_configurable() -> None:
    files = render(_layout(), PbxPlan())
    assert "bind = 127.0.0.1:5070" in files["pjsip.conf"]
    assert "bindport = 8090" in files["http.conf"]
    assert "port = 5039" in files["manager.conf"]
    assert "rtpstart = 20000" in files["rtp.conf"] and "rtpend = 20099" in files["rtp.conf"]


def test_only_our_modules_load() -> None:
    modules = render(_layout(), PbxPlan())["modules.conf"]
    assert "autoload = no" in modules
    assert modules.count("\nload = ") == len(MODULES)
    assert "load = res_pjsip_pubsub.so" in modules


def test_trunk_calls_can_only_enter_stasis() -> None:
    dialplan = render(_layout(), PbxPlan())["extensions_phones.conf"]
    inbound = dialplan.split("[phones-inbound]")[1].split("\n[")[0]
    enter = dialplan.split("[phones-enter]")[1].split("\n[")[0]
    assert "Goto(phones-enter,${EXTEN},1)" in inbound
    assert "Stasis(phones,inbound,${EXTEN})" in enter
    applications = {
        match.group(1)
        for line in (inbound + enter).splitlines()
        if (match := re.search(r",([A-Za-z]+)\(", line))
    }
    assert applications <= {"Goto", "Set", "Stasis", "GotoIf", "Answer", "MusicOnHold", "Hangup"}
    assert "Dial(" not in dialplan


def test_endpoint_with_auth_identify_and_registration() -> None:
    agent = Endpoint("demo-alice", "phones-agents", username="demo-alice", password="s" * 32)
    files = render(_layout(), PbxPlan(endpoints=[agent]))
    pjsip = files["pjsip.conf"]
    assert "[demo-alice]\ntype = endpoint\ncontext = phones-agents" in pjsip
    assert "auth = demo-alice" in pjsip
    assert "max_contacts = 1" in pjsip


def test_carrier_identifies_the_platform_by_address_and_port() -> None:
    plan = carrier_plan("127.0.0.1", 5070, [CarrierPhone("pstn1", "p" * 20)])
    pjsip = render(_layout(), plan)["pjsip.conf"]
    assert "match = 127.0.0.1:5070" in pjsip
    assert "contact = sip:127.0.0.1:5070" in pjsip
    assert "[carrier-from-platform]" in render(_layout(), plan)["extensions_phones.conf"]


def test_carrier_registers_as_agents_from_its_own_port() -> None:
    agent = AgentAccount("demo-bench0001", "s" * 32, "agent0")
    plan = carrier_plan("127.0.0.1", 5070, agents=[agent], agents_port=5090)
    files = render(_layout(), plan)
    pjsip = files["pjsip.conf"]
    assert "[transport-registrations]\ntype = transport\nprotocol = udp\n" in pjsip
    assert "bind = 127.0.0.1:5090" in pjsip
    assert "transport = transport-registrations" in pjsip
    assert "client_uri = sip:demo-bench0001@127.0.0.1:5070" in pjsip
    assert "contact_user = agent0" in pjsip
    assert "username = demo-bench0001" in pjsip
    assert "exten => _age[n]t!,1,Answer()" in files["extensions_phones.conf"]


def test_carrier_without_agents_has_one_transport() -> None:
    pjsip = render(_layout(), carrier_plan("127.0.0.1", 5070))["pjsip.conf"]
    assert "transport-registrations" not in pjsip
    assert "type = registration" not in pjsip


def test_app_queue_number_only_with_the_bench_switch() -> None:
    plain = render(_layout(), PbxPlan())
    assert BENCH_APP_QUEUE_NUMBER not in plain["extensions_phones.conf"]
    assert "[bench]" not in plain["queues.conf"]
    plan = PbxPlan(with_app_queue=True, queue_members=["PJSIP/demo-a", "PJSIP/demo-b"])
    files = render(_layout(), plan)
    inbound = files["extensions_phones.conf"].split("[phones-inbound]")[1].split("\n[")[0]
    assert f"exten => {BENCH_APP_QUEUE_NUMBER},1,Goto(bench-app-queue,${{EXTEN}},1)" in inbound
    assert "member => PJSIP/demo-a\nmember => PJSIP/demo-b" in files["queues.conf"]


def test_ami_events_carry_timestamps() -> None:
    assert "timestampevents = yes" in render(_layout(), PbxPlan())["manager.conf"]
