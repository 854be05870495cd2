"""Where the pipeline's frames go: the resend ring, USB, and BLE when a central is there.

`Outlet` has the FrameEncoder methods the pipeline and the app call (`add_sample`,
`flush`, `event`, `info`, `status`, `calibration`), so it drops in as the pipeline's
encoder. Per sample it stores the record in the ring and hands it to the USB encoder;
BLE does not encode per sample at all, it builds its frames from the ring when it can
send (ble.py). Small frames go to USB and, when connected, to the BLE queue.

`UsbLink` is the USB side of a link for the command dispatcher: its encoder (ACK,
STATUS, EVENT) and RESEND frames from the ring through the same COBS framer, sent a few
per loop pass between live frames.
"""

from belt import protocol as _p
from belt.ring import RingReader, stamp

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

USB_RESEND_BATCH = const(15)  # 8 + 15 x 16 = 248 bytes, under the 250-byte USB limit
USB_RESEND_PER_PASS = const(2)


class UsbLink:
    def __init__(self, encoder, ring):
        self.encoder = encoder
        self.reader = RingReader(ring, _p.BATCH_HEADER_LEN + _p.SAMPLE_LEN * USB_RESEND_BATCH)
        self.reader.configure(encoder.batch, True, USB_RESEND_BATCH)

    def start_resend(self, first, count):
        """Begin a RESEND: samples available, or -1 while one is still running."""
        if self.reader.resending():
            return -1
        return self.reader.resend_start(first, count)

    def pump(self):
        rd = self.reader
        if rd.resend_next >= rd.resend_end:
            return 0
        enc = self.encoder
        n = 0
        while n < USB_RESEND_PER_PASS:
            view = rd.resend_frame()
            if view is None:
                break
            stamp(view, enc.seq)  # the link's own sequence, shared with live frames
            enc.seq = (enc.seq + 1) & 0xFFFF
            enc.send(view)
            n += 1
        return n


class Outlet:
    """Fan-out with the FrameEncoder interface; `ble` may be None (no radio)."""

    def __init__(self, ring, usb_encoder, ble=None):
        self.ring = ring
        self.usb = usb_encoder
        self.ble = ble
        self.info_args = None  # (version, imu, rate, flags) of the last INFO, for BLE

    def add_sample(self, index, ax, ay, az, gx, gy, gz, tilt, obl):
        self.ring.put(index, ax, ay, az, gx, gy, gz, tilt, obl)
        self.usb.add_sample(index, ax, ay, az, gx, gy, gz, tilt, obl)

    def flush(self):
        self.usb.flush()

    def _ble_encoder(self):
        b = self.ble
        if b is not None and b.conn >= 0:
            return b.encoder
        return None

    def event(self, kind, side, index, onset_index, value):
        self.usb.event(kind, side, index, onset_index, value)
        e = self._ble_encoder()
        if e is not None:
            e.event(kind, side, index, onset_index, value)

    def info(self, version, imu_kind, rate_hz, batch, flags):
        self.info_args = (version, imu_kind, rate_hz, flags)
        self.usb.info(version, imu_kind, rate_hz, batch, flags)
        self.ble_info()

    def ble_info(self):
        """INFO on BLE with the BLE batch (on connect and when the MTU changes)."""
        e = self._ble_encoder()
        a = self.info_args
        if e is not None and a is not None and self.ble is not None:
            e.info(a[0], a[1], a[2], self.ble.reader.batch, a[3])

    def status(self, state, stance, battery_mv, fifo_overflows, threshold_cdeg, dwell_ms,
               release_cdeg, last_index):
        self.usb.status(state, stance, battery_mv, fifo_overflows, threshold_cdeg, dwell_ms,
                        release_cdeg, last_index)
        e = self._ble_encoder()
        if e is not None:
            e.status(state, stance, battery_mv, fifo_overflows, threshold_cdeg, dwell_ms,
                     release_cdeg, last_index)

    def calibration(self, bias, up, mount_error_cdeg, position, flags=0):
        self.usb.calibration(bias, up, mount_error_cdeg, position, flags)
        e = self._ble_encoder()
        if e is not None:
            e.calibration(bias, up, mount_error_cdeg, position, flags)
