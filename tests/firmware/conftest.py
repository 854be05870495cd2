"""Put firmware/ on sys.path so these files import `belt` exactly as on the device."""

import pathlib
import sys

FIRMWARE = pathlib.Path(__file__).resolve().parents[2] / "firmware"
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))
