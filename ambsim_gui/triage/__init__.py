"""Triage data: the protocol a call handler follows and the call cards callers are drawn from.

Both are instructor-editable YAML, read through :mod:`ambsim_gui.datafile`:
``protocol_file`` is the protocol's format, ``protocol`` turns answers into a recommended
category, ``cards`` draws a call's hidden patient truth. Nothing here knows the engine.
"""
