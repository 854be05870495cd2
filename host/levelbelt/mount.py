"""The clip's mount as text (`+x+y`) and as SET_MOUNT's arguments (docs/protocol.md).

The text is the one `levelbelt analyze --mount` takes and the belt keeps in its settings:
the sensor axis pointing to the wearer's right, then the one pointing up, each a sign and
an axis letter, on two different axes (docs/units.md). On the wire each axis is one code:
1 +x, 2 -x, 3 +y, 4 -y, 5 +z, 6 -z (1 + 2 * axis, + 1 when negative).
"""

from __future__ import annotations

from typing import Final

from levelbelt.errors import ConfigError

DEFAULT_MOUNT: Final = "+x+y"
AXIS_CODES: Final = {"+x": 1, "-x": 2, "+y": 3, "-y": 4, "+z": 5, "-z": 6}
_AXIS_OF_CODE: Final = {code: text for text, code in AXIS_CODES.items()}


def parse_mount(text: str) -> tuple[int, int]:
    """'+x+y' -> (right axis code, up axis code); a ConfigError says what is allowed.

    Case and surrounding spaces are ignored, as by the firmware's `align.parse_mount`.
    """
    t = text.strip().lower()
    right, up = AXIS_CODES.get(t[:2]), AXIS_CODES.get(t[2:])
    if len(t) != 4 or right is None or up is None or t[1] == t[3]:
        raise ConfigError(
            f"mount must look like '+x+y' (the sensor axis pointing to the wearer's right, "
            f"then the one pointing up: two of +x -x +y -y +z -z on different axes), "
            f"got {text!r}"
        )
    return right, up


def mount_text(right: int, up: int) -> str:
    """Axis codes back to the canonical text, e.g. (2, 3) -> '-x+y'."""
    r, u = _AXIS_OF_CODE.get(right), _AXIS_OF_CODE.get(up)
    if r is None or u is None or r[1] == u[1]:  # unknown, or both on one axis
        raise ConfigError(f"no mount has the axis codes {right}, {up}")
    return r + u


def set_mount_args(text: str) -> bytes:
    """SET_MOUNT's two argument bytes for a mount text: right code u8, up code u8."""
    return bytes(parse_mount(text))
