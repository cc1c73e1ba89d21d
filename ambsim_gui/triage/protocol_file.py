"""The triage protocol's file format (``resources/triage/protocol.yaml``), as pydantic models.

What an instructor may write in a protocol file, and the format versions this build reads.
:mod:`ambsim_gui.triage.protocol` checks what the models cannot (answers, rules, catch-alls)
and turns a file into the :class:`~ambsim_gui.triage.protocol.Protocol` a call is triaged by.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ambsim_gui.datafile.versions import SchemaVersions

__all__ = [
    "PROTOCOL_VERSIONS",
    "Category",
    "ProtocolFile",
    "QuestionSpec",
    "RuleSpec",
    "check_ident",
]

Category = Literal["C1", "C2", "C3", "C4"]

PROTOCOL_VERSIONS = SchemaVersions("protocol", current=1)
"""Protocol files: format 1 is the only one so far; a format 2 adds its step here."""


def check_ident(value: str) -> str:
    """``value`` when it is an identifier (letters, digits and _), else ValueError."""
    if not value or not value.replace("_", "a").isalnum() or not value.isascii():
        raise ValueError(f"'{value}' is not a valid identifier (letters, digits and _ only)")
    return value


class QuestionSpec(BaseModel):
    """One question as written in protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str = Field(min_length=1)
    stage: Literal["nature_of_call", "specific"]
    answers: tuple[str, ...] | None = None  # None only for what_happened (= the complaint keys)
    default: str | None = None
    answer_time_s: tuple[float, float] = (3.0, 10.0)
    applies_to: tuple[str, ...] = ()
    ask_if: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    say: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # generic phrasings per answer

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_ident(v)

    @field_validator("answer_time_s")
    @classmethod
    def _times(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError("answer_time_s must be [low, high] with 0 <= low <= high")
        return v


class RuleSpec(BaseModel):
    """One rule as written in protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, str | tuple[str, ...]]
    category: Category
    code: str = Field(min_length=1)
    label: str = Field(min_length=1)
    validation: bool = False
    advice: bool = False
    final: bool = False


class ProtocolFile(BaseModel):
    """The whole protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    complaints: dict[str, str] = Field(min_length=1)
    questions: tuple[QuestionSpec, ...] = Field(min_length=1)
    rules: tuple[RuleSpec, ...] = Field(min_length=1)
