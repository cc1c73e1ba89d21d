"""What is wrong with a scenario file, located: ``file:line:col: where: message``.

Scenario files report their problems the way every ambsim data file does
(:mod:`ambsim_gui.datafile.problems`); ``ScenarioError`` is that one error type, under the name
the scenario's callers know it by.
"""

from __future__ import annotations

from ambsim_gui.datafile.problems import DataFileError, Problem

ScenarioError = DataFileError
"""A scenario file could not be loaded; ``problems`` says where and why, one per line."""

__all__ = ["Problem", "ScenarioError"]
