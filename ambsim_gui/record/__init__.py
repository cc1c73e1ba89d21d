"""Session files: recording a shift, verifying a recording, and projections for its replay.

A session is one SQLite file (WAL) holding the scenario and the files its world was built
from, every external command and every event, each table hash-chained. Where to start:

- ``session.SessionRecorder``: record an engine (``SessionRecorder.start(path, loaded, engine)``).
- ``reader.SessionFile``: open a session (clear errors; old schemas migrated in memory).
- ``blocks``: how a batch of events is stored (schema 2); ``chain``: what each hash covers.
- ``replay``: rebuild a session's scenario and world, re-simulate it.
- ``verify.verify``: hash chains intact and the replay identical, or where it is not.
- ``replay_state.ReplayState``: the room at a moment, a pure fold of events;
  ``snapshots.SnapshotIndex``: seek anywhere; ``debrief_markers.build_markers``: the
  debrief's key moments; ``response_standards``: response times against the regime;
  ``vehicle_positions.RouteCache``: where a vehicle is during a drive.
- ``expert.expert_shift``: the expert's shift beside the trainee's, patient by patient.
- ``dispatch_review.review_dispatching``: the trainee's dispatches beside the nearest suitable
  vehicle, their fates, and the incidents left waiting in the trainee's sector.
- ``player``: a built-in policy in the trainee's seat, through ``submit`` (tests, archives).

Nothing here imports Qt.
"""
