"""Can a Qt window open here? Checked before Qt starts, so a missing display gets words.

Without a display, or without the X libraries its xcb plugin links against, Qt aborts the
process (a core dump, exit 134) with a message about ``xcb-cursor0`` whatever is missing.
``display_problem`` finds out first, without importing Qt, and says what to do: which variable
to set, which Debian/Ubuntu packages to install. The desk and the replay window call it.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
from collections.abc import Mapping

XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb.so.1", "libxcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libGL.so.1", "libgl1"),
    ("libEGL.so.1", "libegl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
)
"""What PySide6's xcb platform plugin links against (``ldd libqxcb.so``), with the Debian
package that ships each; the README lists the same packages."""

HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc"})
"""Qt platforms that draw without a screen: nothing to check."""

_ADVICE = (
    "open it in a desktop session, or point DISPLAY at an X server (for example "
    "`Xvfb :9 &` then `DISPLAY=:9`); for a screenshot without any screen, set "
    "QT_QPA_PLATFORM=offscreen"
)


def missing_libraries() -> list[tuple[str, str]]:
    """The (library, Debian package) pairs of ``XCB_LIBRARIES`` the loader cannot find."""
    missing = []
    for soname, package in XCB_LIBRARIES:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append((soname, package))
    return missing


def _x_server_reachable(display: str) -> bool:
    """False only when ``display`` names a local X server whose socket is not there."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if host not in ("", "unix") or not number.isdigit():
        return True  # a remote or unusual display: let Qt try it
    path = f"/tmp/.X11-unix/X{number}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(path)
    except OSError:
        # Linux also has an abstract socket of the same name (Xvfb listens on both)
        try:
            sock.close()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(1.0)
            sock.connect("\0" + path)
        except OSError:
            return False
    finally:
        sock.close()
    return True


def display_problem(
    what: str = "the desk",
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> str | None:
    """Why a window for ``what`` cannot open here, as a message to print; None if it can."""
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    if not system.startswith("linux"):
        return None  # Windows and macOS always have their own platform plugin and screen
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if qpa in HEADLESS_PLATFORMS:
        return None
    if qpa.startswith("wayland") or (not qpa and env.get("WAYLAND_DISPLAY")):
        if env.get("WAYLAND_DISPLAY"):
            return None
        return f"ambsim: cannot open {what}: QT_QPA_PLATFORM is wayland, WAYLAND_DISPLAY unset"
    if qpa and qpa != "xcb":
        return None  # eglfs, linuxfb ...: the user chose a platform; let Qt speak for it
    display = env.get("DISPLAY", "")
    if not display:
        return f"ambsim: cannot open {what}: no display (DISPLAY is not set); {_ADVICE}"
    if not _x_server_reachable(display):
        return (
            f"ambsim: cannot open {what}: no X server answers on DISPLAY={display}; {_ADVICE}"
        )
    missing = missing_libraries()
    if missing:
        names = ", ".join(soname for soname, _ in missing)
        packages = " ".join(package for _, package in missing)
        return (
            f"ambsim: cannot open {what}: Qt's X11 plugin needs libraries this machine lacks "
            f"({names}); on Debian or Ubuntu: sudo apt-get install {packages}"
        )
    return None
