"""A Bluetooth LE test rig on Bumble: real HCI/L2CAP/ATT/GATT/SMP, no radio, no BlueZ.

The belt's firmware runs on CPython as the peripheral through `mpy_bluetooth` (the
MicroPython `bluetooth` API over a Bumble device); the host's own bleak code is the
central through `bleak_backend` (bleak's `backend=` hook over a Bumble device). Both
sit on `radio.RigLink`, which adds connection-event pacing, range and RSSI to Bumble's
in-process link. `clock.run` runs it all on a virtual clock. See docs/architecture.md.
"""

from levelbelt.blerig.clock import VirtualClockLoop, run
from levelbelt.blerig.mpy_bluetooth import BLE, UUID, BluetoothModule
from levelbelt.blerig.radio import RadioTiming, RigController, RigLink
from levelbelt.blerig.rig import BleRig, Central, CentralProfile, Peripheral

__all__ = [
    "BLE",
    "UUID",
    "BleRig",
    "BluetoothModule",
    "Central",
    "CentralProfile",
    "Peripheral",
    "RadioTiming",
    "RigController",
    "RigLink",
    "VirtualClockLoop",
    "run",
]
