"""The parts call-flow nodes are made of: ids, names, prompts, edges, options, schedules.

Shape only, like nodes.py: what an administrator can get wrong is left to the validator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
# A DTMF key as typed in the designer; whether it is one of 0-9 * # is the validator's job.
Key = Annotated[str, StringConstraints(max_length=8)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Seconds = Annotated[int, Field(ge=1, le=3600)]
Retries = Annotated[int, Field(ge=0, le=9)]


class Model(BaseModel):
    """Strict, closed, immutable: a typo in a field name is an error, not a silent default."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Prompt(Model):
    """One language's version of a prompt: text to speak, or the id of a recorded prompt."""

    tts: Text | None = None
    recording: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.tts is None) == (self.recording is None):
            raise ValueError("give exactly one of 'tts' (text to speak) or 'recording'")
        return self


# language -> prompt, e.g. {"it": {"tts": "Benvenuti"}, "en": {"recording": "welcome-en"}}
Prompts = dict[LanguageCode, Prompt]


@dataclass(frozen=True, slots=True)
class Edge:
    """An outgoing edge: the field holding it, the node it leads to, and whether it must be set."""

    field: str
    target: str | None
    required: bool


class MenuOption(Model):
    """A key of a menu and where it leads."""

    key: Key
    next: NodeId | None
    label: Annotated[str, StringConstraints(max_length=200)] = ""


class Schedule(Model):
    """A weekly schedule in the format of server.calls.model.opening_state (the one evaluator).

    Times are "HH:MM" (24:00 ends a day); holidays are ISO dates in the schedule's time zone.
    """

    tz: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    mon: list[tuple[str, str]] = []
    tue: list[tuple[str, str]] = []
    wed: list[tuple[str, str]] = []
    thu: list[tuple[str, str]] = []
    fri: list[tuple[str, str]] = []
    sat: list[tuple[str, str]] = []
    sun: list[tuple[str, str]] = []
    holidays: list[str] = []


class ConditionBranch(Model):
    """An expression (see expressions.py) and where the call goes when it is true."""

    when: Annotated[str, StringConstraints(max_length=1000)]
    next: NodeId | None


class CallbackOffer(Model):
    """While queued, a key the caller presses to leave the queue for a call-back."""

    key: Key
    prompt: Prompts


class CallbackSlot(Model):
    """A choice of when to be called back: in N minutes, or at the next HH:MM in the node's zone."""

    key: Key
    after_minutes: Annotated[int, Field(ge=0, le=10080)] | None = None
    at: Annotated[str, StringConstraints(max_length=5)] | None = None

    @model_validator(mode="after")
    def _one_time(self) -> Self:
        if (self.after_minutes is None) == (self.at is None):
            raise ValueError("give exactly one of 'after_minutes' or 'at'")
        return self


class TransferTarget(Model):
    """Exactly one of: an external number (through the trunk), an agent, or another line."""

    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")] | None = None
    agent_id: int | None = None
    line: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if sum(v is not None for v in (self.number, self.agent_id, self.line)) != 1:
            raise ValueError("give exactly one of 'number', 'agent_id' or 'line'")
        return self

    def describe(self) -> str:
        """The target in words, for paths and diffs."""
        if self.number is not None:
            return f"number {self.number}"
        if self.agent_id is not None:
            return f"agent {self.agent_id}"
        return f"line {self.line}"


class LanguageOption(Model):
    """A key choosing one of the flow's languages."""

    key: Key
    language: LanguageCode
