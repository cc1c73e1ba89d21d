"""The one read model of a shift, and the ports a desk talks to the simulation through.

``RoomProjection`` (room.py) is what the control room can know, folded from the event stream;
``TruthProjection`` (truth.py) is the patient truth, apart, for the instructor and the debrief;
ports.py holds the typed doors a desk needs beside them (commands in, candidate ETAs, vehicle
positions, the clock) and their adapter over a live engine. No Qt; from the engine only the
event and command types and the regime's clocks.
"""
