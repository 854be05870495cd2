"""A `bluetooth.BLE` surface that accepts everything and sends nowhere, for timing the
belt's own BLE work (belt/ble.py) in the firmware path benchmark. Not a test stand-in:
no controller model, no ENOMEM; the tests use tests/firmware/fake_bluetooth.py.
"""

from belt.ble import Peripheral

_IRQ_CENTRAL_CONNECT = 1
_IRQ_MTU_EXCHANGED = 21


class Uuid:
    def __init__(self, value):
        self.value = value


class NullBle:
    def __init__(self):
        self.handler = None
        self.notified = 0

    def active(self, flag=None):
        return True

    def config(self, *args, **kwargs):
        if args:
            return (0, b"\x00\x00\x00\x00\xbe\x0c")  # only 'mac' is read
        return None  # pairing settings accepted, as on the ESP32 (no bond store here)

    def irq(self, handler):
        self.handler = handler

    def gatts_register_services(self, services):
        h = 0
        out = []
        for svc in services:
            hs = []
            for _ in svc[1]:
                h += 1
                hs.append(h)
            out.append(tuple(hs))
        return tuple(out)

    def gatts_set_buffer(self, handle, n, append=False):
        pass

    def gatts_write(self, handle, data, send_update=False):
        pass

    def gatts_read(self, handle):
        return b""

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        pass

    def gap_disconnect(self, conn):
        return True

    def gattc_exchange_mtu(self, conn):
        pass

    def gatts_notify(self, conn, handle, data=None):
        self.notified += 1


def connected_peripheral(ring, rate_hz, mtu=23):
    """A Peripheral on a NullBle with a central connected at `mtu` (23: TILT x3)."""
    ble = NullBle()
    per = Peripheral(ble, Uuid, ring, rate_hz)
    ble.handler(_IRQ_CENTRAL_CONNECT, (1, 0, b"\x00" * 6))
    ble.handler(_IRQ_MTU_EXCHANGED, (1, mtu))
    per.service()
    return per
