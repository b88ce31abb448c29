"""The node kinds of a call flow: their typed properties and their named outgoing edges.

Shape only: pydantic checks types and ranges here. Anything an administrator can get wrong in
the designer (a bad DTMF key, an unwired edge, a pattern that does not compile, an unknown
service) is left to `validate.py`, so a draft holding such mistakes can still be saved.
Required edges are therefore nullable: a null there is a draft's unwired edge, reported by
the validator as "missing_edge"; optional edges default to null, which means hang up.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field, StringConstraints

from ivr_messenger.node_parts import (
    CallbackOffer,
    CallbackSlot,
    ConditionBranch,
    Edge,
    Key,
    LanguageOption,
    MenuOption,
    Model,
    NodeId,
    Prompts,
    Retries,
    Schedule,
    Seconds,
    TransferTarget,
    VariableName,
)


class NodeBase(Model):
    """What every node has: a label for the designer, edges, prompts, and whether it waits."""

    label: Annotated[str, StringConstraints(max_length=200)] = ""
    # Whether the call stops here for the caller (or, for a sub-flow, maybe does): a cycle of
    # nodes that never wait would spin forever, see graph.endless_loops.
    waits: ClassVar[bool] = False

    def edges(self) -> list[Edge]:
        """The outgoing edges, in a stable order."""
        return []

    def prompts(self) -> list[tuple[str, Prompts]]:
        """Each prompt field that is set, as (field name, prompts)."""
        return []


class StartNode(NodeBase):
    """Where a call enters the flow."""

    type: Literal["start"]
    next: NodeId | None

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True)]


class PlayNode(NodeBase):
    """Play a prompt, then go on."""

    type: Literal["play"]
    prompt: Prompts
    next: NodeId | None

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True)]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return [("prompt", self.prompt)]


def _set(*fields: tuple[str, Prompts | None]) -> list[tuple[str, Prompts]]:
    return [(name, prompts) for name, prompts in fields if prompts is not None]


class MenuNode(NodeBase):
    """Ask for one key; after `max_retries` re-prompts, take the invalid or timeout branch."""

    type: Literal["menu"]
    prompt: Prompts
    options: list[MenuOption]
    timeout_s: Seconds = 5
    max_retries: Retries = 2
    invalid_prompt: Prompts | None = None
    timeout_prompt: Prompts | None = None
    invalid: NodeId | None = None
    timeout: NodeId | None = None
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        options = [Edge(f"options[{i}].next", o.next, True) for i, o in enumerate(self.options)]
        branches = [Edge("invalid", self.invalid, False), Edge("timeout", self.timeout, False)]
        return [*options, *branches]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(
            ("prompt", self.prompt),
            ("invalid_prompt", self.invalid_prompt),
            ("timeout_prompt", self.timeout_prompt),
        )


class CollectNode(NodeBase):
    """Collect digits into a variable; lengths, terminator and pattern decide if they are valid."""

    type: Literal["collect"]
    prompt: Prompts
    into: VariableName
    min_length: Annotated[int, Field(ge=1, le=64)] = 1
    max_length: Annotated[int, Field(ge=1, le=64)] = 20
    terminator: Key | None = "#"
    pattern: Annotated[str, StringConstraints(max_length=1000)] | None = None
    timeout_s: Seconds = 5
    max_retries: Retries = 2
    invalid_prompt: Prompts | None = None
    next: NodeId | None
    invalid: NodeId | None = None
    timeout: NodeId | None = None
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [
            Edge("next", self.next, True),
            Edge("invalid", self.invalid, False),
            Edge("timeout", self.timeout, False),
        ]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(("prompt", self.prompt), ("invalid_prompt", self.invalid_prompt))


class BusinessHoursNode(NodeBase):
    """Branch on the schedule at the moment the call gets here; no holiday branch means closed."""

    type: Literal["business_hours"]
    schedule: Schedule
    open: NodeId | None
    closed: NodeId | None
    holiday: NodeId | None = None

    def edges(self) -> list[Edge]:
        return [
            Edge("open", self.open, True),
            Edge("closed", self.closed, True),
            Edge("holiday", self.holiday, False),
        ]


class ConditionNode(NodeBase):
    """Take the first branch whose expression is true, else `else`."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_alias=True)

    type: Literal["condition"]
    branches: list[ConditionBranch]
    otherwise: NodeId | None = Field(alias="else")

    def edges(self) -> list[Edge]:
        branches = [Edge(f"branches[{i}].next", b.next, True) for i, b in enumerate(self.branches)]
        return [*branches, Edge("else", self.otherwise, True)]


class SetVariableNode(NodeBase):
    """Set a variable to the value of an expression."""

    type: Literal["set_variable"]
    variable: VariableName
    value: Annotated[str, StringConstraints(max_length=1000)]
    next: NodeId | None

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True)]


class HttpLookupNode(NodeBase):
    """Ask a web service; map fields of its JSON answer into variables.

    `send` variables go as query parameters (GET) or a JSON object (POST); `fields` maps a
    variable to a dotted path in the answer ("customer.name", "items.0.id"). A non-2xx
    status, a timeout, or a missing or non-scalar field takes `failure`.
    """

    type: Literal["http_lookup"]
    method: Literal["GET", "POST"] = "GET"
    url: Annotated[str, StringConstraints(max_length=2000)]
    send: list[VariableName] = []
    fields: dict[VariableName, Annotated[str, StringConstraints(min_length=1, max_length=200)]]
    timeout_s: Annotated[int, Field(ge=1, le=10)] = 3
    next: NodeId | None
    failure: NodeId | None

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True), Edge("failure", self.failure, True)]


class QueueNode(NodeBase):
    """Queue the call to a service; max wait takes `overflow`, the call-back key `callback`."""

    type: Literal["queue"]
    service_id: int
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    prompt: Prompts | None = None
    announce_position: bool = False
    announce_wait: bool = False
    announce_every_s: Annotated[int, Field(ge=10, le=3600)] = 60
    max_wait_s: Annotated[int, Field(ge=5, le=86400)] | None = None
    overflow: NodeId | None = None
    callback_offer: CallbackOffer | None = None
    callback: NodeId | None = None
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [
            Edge("overflow", self.overflow, self.max_wait_s is not None),
            Edge("callback", self.callback, self.callback_offer is not None),
        ]

    def prompts(self) -> list[tuple[str, Prompts]]:
        offer = self.callback_offer.prompt if self.callback_offer else None
        return _set(("prompt", self.prompt), ("callback_offer.prompt", offer))


class VoicemailNode(NodeBase):
    """Record a message; it becomes an interaction of the service, shown in agents' queues."""

    type: Literal["voicemail"]
    service_id: int
    prompt: Prompts
    max_duration_s: Annotated[int, Field(ge=5, le=600)] = 120
    goodbye: Prompts | None = None
    waits: ClassVar[bool] = True

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(("prompt", self.prompt), ("goodbye", self.goodbye))


class CallbackNode(NodeBase):
    """Take a call-back request: confirm the number by DTMF, pick a slot, schedule it.

    The caller's own number is read back first; `change_key` lets them type another, which is
    read back for confirmation too. With no slots the call-back is due at once.
    """

    type: Literal["callback"]
    service_id: int
    confirm_prompt: Prompts
    confirm_key: Key = "1"
    change_key: Key = "2"
    number_prompt: Prompts
    number_min_length: Annotated[int, Field(ge=3, le=20)] = 6
    number_max_length: Annotated[int, Field(ge=3, le=20)] = 15
    slot_prompt: Prompts | None = None
    slots: list[CallbackSlot] = []
    time_zone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    done_prompt: Prompts
    timeout_s: Seconds = 5
    max_retries: Retries = 2
    failure: NodeId | None = None
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [Edge("failure", self.failure, False)]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(
            ("confirm_prompt", self.confirm_prompt),
            ("number_prompt", self.number_prompt),
            ("slot_prompt", self.slot_prompt),
            ("done_prompt", self.done_prompt),
        )


class TransferNode(NodeBase):
    """Hand the call over; if the target does not answer, take `failure` (none: hang up)."""

    type: Literal["transfer"]
    target: TransferTarget
    prompt: Prompts | None = None
    failure: NodeId | None = None

    def edges(self) -> list[Edge]:
        return [Edge("failure", self.failure, False)]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(("prompt", self.prompt))


class LanguageNode(NodeBase):
    """Let the caller pick a language; no valid choice keeps the current one."""

    type: Literal["language"]
    prompt: Prompts
    options: list[LanguageOption]
    timeout_s: Seconds = 5
    max_retries: Retries = 1
    next: NodeId | None
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True)]

    def prompts(self) -> list[tuple[str, Prompts]]:
        return [("prompt", self.prompt)]


class SubflowNode(NodeBase):
    """Run another flow (kind "subflow"); its `return` node comes back to `next`."""

    type: Literal["subflow"]
    flow_id: int
    next: NodeId | None
    # The sub-flow is validated on its own; it may wait for input, so no loop is assumed.
    waits: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, True)]


class ReturnNode(NodeBase):
    """End of a sub-flow: continue after the sub-flow node that called it."""

    type: Literal["return"]


class HangupNode(NodeBase):
    """Say goodbye (optionally) and hang up."""

    type: Literal["hangup"]
    prompt: Prompts | None = None

    def prompts(self) -> list[tuple[str, Prompts]]:
        return _set(("prompt", self.prompt))


Node = Annotated[
    StartNode
    | PlayNode
    | MenuNode
    | CollectNode
    | BusinessHoursNode
    | ConditionNode
    | SetVariableNode
    | HttpLookupNode
    | QueueNode
    | VoicemailNode
    | CallbackNode
    | TransferNode
    | LanguageNode
    | SubflowNode
    | ReturnNode
    | HangupNode,
    Field(discriminator="type"),
]
