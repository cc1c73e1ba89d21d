"""The study file's form: a base scenario, its variants, policies, seeds and figures.

Validated by pydantic through the data-file path (``datafile/``), so a wrong key or value is
reported at its ``file:line:col``; ``python main.py study --schema`` prints the JSON Schema.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ambsim_gui.scenario.model import MAX_SEED, FileRef, Name, Strict, Text
from ambsim_gui.study.figures import FIGURE_KEYS

Policy = Literal["expert", "target_chaser"]  # ambsim_gui/sim/policies.py, make_policy
MAX_SHIFTS = 100_000
"""Shifts in one study at most (variants x policies x seeds)."""


def _known_figure(key: str) -> str:
    if key not in FIGURE_KEYS:
        close = difflib.get_close_matches(key, FIGURE_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown figure {key!r}{hint} (figures: docs/domain.md, Studies)")
    return key


class Band(Strict):
    """A range drawn across a chart (the trusts' range of a figure, say)."""

    low: float
    high: float
    label: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.low > self.high:
            raise ValueError("low must not be above high")
        return self


class Chart(Strict):
    """One chart of the report: a figure's mean and 95% interval against an override's value
    (``x``, a grid path), one line a policy; without ``x``, one bar a variant."""

    figure: str
    x: Annotated[str, Field(max_length=200)] | None = None
    band: Band | None = None
    title: Annotated[str, Field(max_length=200)] = ""

    @field_validator("figure")
    @classmethod
    def _figure(cls, value: str) -> str:
        return _known_figure(value)


class VariantSpec(Strict):
    """A variant given by hand: overrides of scenario keys by path (``overrides.py``)."""

    name: Name | None = None
    set: Annotated[dict[str, Any], Field(min_length=1, max_length=100)]


Seeds = Annotated[int, Field(ge=0, le=MAX_SEED)]


class StudyFile(Strict):
    schema_version: Literal[1] = Field(description="Version of this file format")
    name: Name
    note: Text = Field(default="", description="What the study asks, and its size if reduced")
    scenario: FileRef = Field(
        description="The base scenario: relative to the study file, or a shipped scenario's name"
    )
    grid: Annotated[
        dict[str, Annotated[list[Any], Field(min_length=1, max_length=100)]],
        Field(max_length=10),
    ] = Field(default_factory=dict, description="path -> values: every combination is a variant")
    variants: Annotated[list[VariantSpec], Field(max_length=1000)] = Field(
        default_factory=list, description="variants by hand (each combined with the grid's)"
    )
    policies: Annotated[list[Policy], Field(min_length=1, max_length=2)] = ["expert"]
    seeds: (
        Annotated[int, Field(ge=1, le=10_000)]
        | Annotated[list[Seeds], Field(min_length=1, max_length=10_000)]
    ) = Field(description="N: the scenario's seed + 0..N-1; or a list of seeds")
    hours: Annotated[float, Field(gt=0, le=168)] | None = Field(
        default=None, description="stop each shift after H hours (default: the whole shift)"
    )
    figures: Annotated[list[str], Field(min_length=1, max_length=len(FIGURE_KEYS))]
    charts: Annotated[list[Chart], Field(max_length=50)] = Field(default_factory=list)

    @field_validator("figures")
    @classmethod
    def _figures(cls, value: list[str]) -> list[str]:
        for key in value:
            _known_figure(key)
        return value

    @field_validator("policies")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a policy is named twice")
        return value


SCHEMA_ID = "https://ambsim.invalid/study.schema.json"


def study_json_schema() -> dict[str, Any]:
    """The study file's JSON Schema (``docs/study.schema.json``), for editors."""
    schema = StudyFile.model_json_schema()
    schema["title"] = "ambsim study"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
