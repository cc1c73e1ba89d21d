"""Everything Qt: the trainee desk, its panels and the map (the only package importing Qt).

Importing the package applies the binding work-around of ``qt_fixes`` (PySide6 6.12.0 leaking
references to ``True`` and ``None`` on Python 3.11) once, before any module of it makes a widget.
"""

from ambsim_gui.ui import qt_fixes

qt_fixes.apply()
