"""Everything Qt: the trainee desk, its panels and the map (the only package importing Qt).

Importing the package applies the binding work-arounds of ``qt_fixes`` before any widget exists.
"""

from ambsim_gui.ui import qt_fixes

qt_fixes.apply()
