"""What a board says about itself, asked with small MicroPython snippets over the raw REPL.

Each snippet prints one JSON line and guards every port-specific call, so a board that
lacks a module (the WebAssembly port has no `machine`, `network` or `bluetooth`; some
builds lack `os.uname`) answers "unknown" for that item instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from levelbelt.device.errors import BoardCommandError
from levelbelt.device.mpy import MpyAbi
from levelbelt.device.repl import Board
from levelbelt.errors import LinkError
from levelbelt.firmware import belt_module

KEY_PATH: Final[str] = belt_module("auth").KEY_PATH  # where the belt reads its key

SYSTEM_SNIPPET: Final = """\
import sys, os, gc, json
r = {}
i = sys.implementation
r['version'] = '.'.join([str(v) for v in i.version[:3]])
r['mpy'] = getattr(i, '_mpy', None)
r['machine'] = getattr(i, '_machine', None)
r['platform'] = sys.platform
try:
    u = os.uname()
    r['machine'] = u.machine
    r['release'] = u.release
except AttributeError:
    pass
try:
    s = os.statvfs('/')
    r['flash_total'] = s[0] * s[2]
    r['flash_free'] = s[0] * s[3]
except (AttributeError, OSError):
    pass
gc.collect()
r['ram_free'] = gc.mem_free()
r['ram_used'] = gc.mem_alloc()
print(json.dumps(r))
"""

# The MAC the belt advertises with: Bluetooth's own (ESP32: base MAC + 2), else Wi-Fi's.
MAC_SNIPPET: Final = """\
import json, binascii
m = None
s = None
try:
    import bluetooth
    b = bluetooth.BLE()
    was = b.active()
    b.active(True)
    m = bytes(b.config('mac')[1])
    s = 'bluetooth'
    if not was:
        b.active(False)
except Exception:
    try:
        import network
        m = bytes(network.WLAN(network.STA_IF).config('mac'))
        s = 'wifi'
    except Exception:
        m = None
print(json.dumps({'mac': binascii.hexlify(m).decode() if m else None, 'source': s}))
"""

KEY_SNIPPET: Final = f"""\
import os, json
try:
    n = os.stat({KEY_PATH!r})[6]
except OSError:
    n = -1
print(json.dumps({{'size': n}}))
"""

FIRMWARE_SNIPPET: Final = """\
import json, sys
r = {'version': None, 'error': None}
try:
    import belt
    r['version'] = '.'.join([str(v) for v in belt.VERSION])
except ImportError as e:
    r['error'] = 'missing' if 'belt' in str(e) else repr(e)
except Exception as e:
    r['error'] = repr(e)
for k in [k for k in sys.modules if k == 'belt' or k.startswith('belt.')]:
    del sys.modules[k]
print(json.dumps(r))
"""

# The firmware's own detection over belt.hal's bus: belt.imu.find (both chips), or the
# older belt.app.find_imu; a driver names itself with NAME and addr.
IMU_SNIPPET: Final = """\
import json
r = {'status': None, 'detail': None}
try:
    import machine
    machine.I2C
except (ImportError, AttributeError):
    r['status'] = 'no_i2c'
if r['status'] is None:
    try:
        from belt import hal
        try:
            from belt import imu
            find = imu.find
        except ImportError:
            from belt import app
            find = app.find_imu
    except (ImportError, AttributeError) as e:
        r['status'] = 'no_firmware'
        r['detail'] = repr(e)
if r['status'] is None:
    try:
        h = hal.Hal()
        res = find(h.i2c, h)
        d = res[0]
        if d is None:
            r['status'] = 'absent'
            r['detail'] = str(res[-1])
        else:
            r['status'] = 'found'
            a = getattr(d, 'addr', None)
            n = getattr(d, 'NAME', type(d).__name__)
            r['detail'] = n + ('' if a is None else ' at 0x%02x' % a)
    except Exception as e:
        r['status'] = 'error'
        r['detail'] = repr(e)
print(json.dumps(r))
"""

# Battery voltage through the divider on board.BATTERY_ADC_PIN (firmware's board module).
BATTERY_SNIPPET: Final = """\
import json
r = {'mv': None, 'detail': None}
try:
    import machine
    machine.ADC
except (ImportError, AttributeError):
    r['detail'] = 'no ADC on this board'
if r['detail'] is None:
    try:
        from belt import board
    except ImportError:
        r['detail'] = 'firmware not installed'
if r['detail'] is None:
    try:
        a = machine.ADC(machine.Pin(board.BATTERY_ADC_PIN))
        a.atten(machine.ADC.ATTN_11DB)
        n = 8
        uv = 0
        for _ in range(n):
            uv += a.read_uv()
        r['mv'] = uv * board.BATTERY_DIVIDER // (n * 1000)
    except Exception as e:
        r['detail'] = repr(e)
print(json.dumps(r))
"""


@dataclass(frozen=True)
class SystemFacts:
    version: str
    abi: MpyAbi | None
    machine: str
    platform: str
    release: str | None
    flash_total: int | None
    flash_free: int | None
    ram_free: int
    ram_used: int

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


def _dict(reply: Any, what: str) -> dict[str, Any]:
    if not isinstance(reply, dict):
        raise LinkError(f"the board's answer about {what} was not understood: {reply!r:.60}")
    return reply


def system_facts(board: Board) -> SystemFacts:
    r = _dict(board.eval_json(SYSTEM_SNIPPET), "its system")
    mpy = r.get("mpy")
    return SystemFacts(
        version=str(r.get("version", "?")),
        abi=MpyAbi.from_sys_mpy(mpy) if isinstance(mpy, int) else None,
        machine=str(r.get("machine") or "unknown board"),
        platform=str(r.get("platform", "?")),
        release=r.get("release") if isinstance(r.get("release"), str) else None,
        flash_total=_int_or_none(r.get("flash_total")),
        flash_free=_int_or_none(r.get("flash_free")),
        ram_free=int(r.get("ram_free", 0)),
        ram_used=int(r.get("ram_used", 0)),
    )


@dataclass(frozen=True)
class BoardName:
    name: str | None  # None: the board has no radio MAC to take a name from
    source: str | None  # "bluetooth" or "wifi"


def board_name(board: Board) -> BoardName:
    r = _dict(board.eval_json(MAC_SNIPPET), "its MAC address")
    mac = r.get("mac")
    if not isinstance(mac, str) or not re.fullmatch(r"(?:[0-9a-f]{2}){6}", mac):
        return BoardName(None, None)
    source = r.get("source")
    name = str(belt_module("ble").belt_name(bytes.fromhex(mac)))  # what the belt advertises
    return BoardName(name, str(source) if source else None)


def key_size(board: Board) -> int | None:
    """Size of /belt.key on the board, None when there is none."""
    size = _dict(board.eval_json(KEY_SNIPPET), "its key file").get("size")
    return int(size) if isinstance(size, int) and size >= 0 else None


@dataclass(frozen=True)
class FirmwareFacts:
    version: str | None  # "0.1.0"; None when not installed or broken
    error: str | None  # "missing", or what importing it raised


def firmware_facts(board: Board) -> FirmwareFacts:
    r = _dict(board.eval_json(FIRMWARE_SNIPPET), "its firmware")
    version = r.get("version")
    error = r.get("error")
    return FirmwareFacts(
        version=str(version) if isinstance(version, str) else None,
        error=str(error) if isinstance(error, str) else None,
    )


def imu_report(board: Board) -> tuple[str, str | None]:
    """(status, detail): status is found / absent / no_i2c / no_firmware / error."""
    r = _dict(board.eval_json(IMU_SNIPPET), "its IMU")
    detail = r.get("detail")
    return str(r.get("status")), (str(detail) if detail is not None else None)


def battery_report(board: Board) -> tuple[int | None, str | None]:
    """(millivolts, why not) from the battery divider."""
    try:
        r = _dict(board.eval_json(BATTERY_SNIPPET), "its battery")
    except BoardCommandError as e:
        return None, str(e)
    detail = r.get("detail")
    return _int_or_none(r.get("mv")), (str(detail) if detail is not None else None)
