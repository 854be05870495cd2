"""BLE peripheral on MicroPython's `bluetooth` API: GATT services, advertising, streaming.

The BLE object and the `bluetooth.UUID` class are passed in (hal.py makes them), so this
module never imports `bluetooth` and runs unchanged on the test stand-in and on the
Bumble-backed adapter. Only documented API is used: `active`, `config`, `irq`,
`gap_advertise`, `gap_disconnect`, `gatts_register_services`, `gatts_read`,
`gatts_write`, `gatts_notify`, `gatts_set_buffer`, `gattc_exchange_mtu`, and the IRQ
codes as integers.

* Services: LevelBelt (stream notify, control write, status read + notify), Battery
  (0x180F, level read + notify), Device Information (0x180A, static strings).
* Advertising: flags + complete name `LevelBelt-XXXX`, and once the battery has been
  measured its level as Battery Service data (so a scan lists the charge without
  connecting); the 128-bit service UUID goes in the scan response when it does not fit
  the 31-byte advertisement (it never does with that name). On connect the stack stops
  advertising; on disconnect the main loop starts it again, with the level of the
  moment. One central at a time: a second connection is dropped at once.
* IRQ handler: records what happened (connection, MTU, connection interval) in plain
  ints and copies control writes into preallocated command slots. Everything else,
  including every reply, happens in the main loop (`service`, `pump`).
* MTU: the belt prefers 247 and asks for the exchange itself (NimBLE lets a peripheral
  start it); until `_IRQ_MTU_EXCHANGED` the payload is the default 20 bytes. Live frames
  are TILT x3 at 20 bytes, else SAMPLES of min(floor((MTU - 3 - 8) / 16), rate / 10) so
  that no frame waits longer than 100 ms; RESEND frames use the whole payload.
* Streaming reads the resend ring (ring.RingReader), so samples are not copied into a
  send queue: a notification refused with ENOMEM (the controller's buffers are full)
  leaves its frame pending and it is retried on the next pass. Small frames (INFO,
  STATUS, CALIBRATION, ACK, EVENT) go through a queue of 16 preallocated slots.
* Pacing: a token bucket of at most NOTIFY_BURST notifications per pass, refilled at
  NOTIFY_PER_INTERVAL per connection interval (30 ms assumed until the central tells);
  an ENOMEM empties the bucket until the next pass.
* Security: on a build with pairing (the ESP32 one has it) the belt bonds with LE
  Secure Connections, Just Works (no display or keys), and keeps the keys in
  `/ble.bonds` (bonds.py). Nothing depends on it: every command carries an HMAC tag.
* Frame order and `seq`: one counter per connection, stamped when a frame actually goes
  out, across both characteristics, so the host sees consecutive seq in arrival order.
"""

from belt import protocol as _p
from belt.bonds import BondStore
from belt.ring import RingReader, stamp

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

SERVICE_UUID = "6c620001-8e3b-4b6f-a1d2-5f0c9e7d4a10"
STREAM_UUID = "6c620002-8e3b-4b6f-a1d2-5f0c9e7d4a10"
CONTROL_UUID = "6c620003-8e3b-4b6f-a1d2-5f0c9e7d4a10"
STATUS_UUID = "6c620004-8e3b-4b6f-a1d2-5f0c9e7d4a10"
BATTERY_SERVICE = const(0x180F)
BATTERY_LEVEL = const(0x2A19)
DEVICE_INFO = const(0x180A)
MANUFACTURER_NAME = const(0x2A29)
MODEL_NUMBER = const(0x2A24)
FIRMWARE_REVISION = const(0x2A26)
MANUFACTURER = "LevelBelt"

# bluetooth.FLAG_* values (docs.micropython.org, bluetooth module).
FLAG_READ = const(0x0002)
FLAG_WRITE = const(0x0008)
FLAG_NOTIFY = const(0x0010)

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_CONNECTION_UPDATE = const(27)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_IO_NO_INPUT_OUTPUT = const(3)
_ENOMEM = const(12)

ADV_MAX = const(31)
ADV_INTERVAL_US = const(100000)
ADV_RETRY_PASSES = const(200)  # after a failed gap_advertise, try again this many passes later
_AD_FLAGS = const(0x01)
_AD_UUID128_COMPLETE = const(0x07)
_AD_SERVICE_DATA16 = const(0x16)
_AD_NAME_SHORT = const(0x08)
_AD_NAME_COMPLETE = const(0x09)
_FLAGS_LE_GENERAL = const(0x06)  # LE General Discoverable, BR/EDR not supported

DEFAULT_MTU = const(23)
PREFERRED_MTU = const(247)
MAX_PAYLOAD = const(244)  # PREFERRED_MTU - 3
CONTROL_BUFFER = const(64)  # a COMMAND is at most 34 bytes
CMD_SLOTS = const(4)
QUEUE_SLOTS = const(16)
SLOT_LEN = const(20)  # the longest small frame (STATUS, CALIBRATION)
NOTIFY_BURST = const(4)
NOTIFY_PER_INTERVAL = const(4)
DEFAULT_INTERVAL = const(24)  # connection interval in 1.25 ms units (30 ms)

# Bits returned by `service`.
JOINED = const(1)
LOST = const(2)
RESIZED = const(4)


def belt_name(mac):
    """`LevelBelt-XXXX` from the last two bytes of the MAC."""
    return "LevelBelt-%02X%02X" % (mac[len(mac) - 2], mac[len(mac) - 1])


def uuid128_le(text):
    """A 128-bit UUID string as the 16 little-endian bytes advertising data carries."""
    h = text.replace("-", "")
    if len(h) != 32:
        raise ValueError("not a 128-bit UUID: " + text)
    out = bytearray(16)
    for i in range(16):
        out[15 - i] = int(h[2 * i:2 * i + 2], 16)
    return bytes(out)


def ad_field(kind, data):
    return bytes((len(data) + 1, kind)) + data


def advertising(name, service_uuid_le, battery=-1):
    """(advertising data, scan response), each at most 31 bytes.

    The advertisement carries the flags and the name (shortened if it would not fit);
    the 128-bit service UUID joins it if there is room, else it is the scan response.
    A `battery` level 0..100 is added as Battery Service (0x180F) data, 5 bytes, in the
    advertisement if it fits there, else in the scan response.
    """
    flags = ad_field(_AD_FLAGS, bytes((_FLAGS_LE_GENERAL,)))
    raw = name.encode()
    room = ADV_MAX - len(flags) - 2
    if len(raw) > room:
        named = ad_field(_AD_NAME_SHORT, raw[:room])
    else:
        named = ad_field(_AD_NAME_COMPLETE, raw)
    adv = flags + named
    uuid = ad_field(_AD_UUID128_COMPLETE, service_uuid_le)
    level = b""
    if 0 <= battery <= 100:
        level = ad_field(_AD_SERVICE_DATA16,
                         bytes((BATTERY_SERVICE & 0xFF, BATTERY_SERVICE >> 8, battery)))
    if len(adv) + len(uuid) + len(level) <= ADV_MAX:
        return adv + uuid + level, b""
    if len(adv) + len(level) <= ADV_MAX:
        return adv + level, uuid
    return adv, uuid + level


def link_shape(mtu, rate_hz):
    """(live batch, raw, resend batch) for an ATT MTU (docs/protocol.md, batching)."""
    payload = (mtu if mtu < PREFERRED_MTU else PREFERRED_MTU) - 3
    cap = rate_hz // 10 if rate_hz >= 10 else 1
    raw = _p.samples_per_frame(payload, True)
    if raw >= 1:
        return (raw if raw < cap else cap), True, raw
    tilt = _p.samples_per_frame(payload, False)
    return (tilt if tilt < cap else cap), False, tilt


class Peripheral:
    """The belt's GATT server and advertiser; `service` and `pump` run in the main loop."""

    def __init__(self, ble, uuid, ring, rate_hz, firmware="0.0.0", model="LevelBelt",
                 bonds_path=None):
        self._ble = ble
        self.rate_hz = rate_hz
        # The bond store and the IRQ handler come before the radio starts: while starting,
        # NimBLE asks the store for its own identity key and reads every bonded central's
        # keys (to recognise their private addresses), and it does not ask again. Until
        # advertising starts (last) only those two secret events can arrive.
        self.bonds = BondStore(bonds_path) if bonds_path else None
        ble.irq(self._irq)
        ble.active(True)
        self.pairing = False
        try:
            ble.config(bond=True, le_secure=True, mitm=False, io=_IO_NO_INPUT_OUTPUT)
            self.pairing = True
        except (ValueError, OSError, TypeError):
            self.bonds = None  # a build without pairing; commands are authenticated anyway
        try:
            ble.config(mtu=PREFERRED_MTU)
        except (ValueError, OSError):
            pass
        self.name = belt_name(ble.config("mac")[1])
        ble.config(gap_name=self.name)
        lb = (uuid(SERVICE_UUID), (
            (uuid(STREAM_UUID), FLAG_NOTIFY),
            (uuid(CONTROL_UUID), FLAG_WRITE),
            (uuid(STATUS_UUID), FLAG_READ | FLAG_NOTIFY),
        ))
        bat = (uuid(BATTERY_SERVICE), ((uuid(BATTERY_LEVEL), FLAG_READ | FLAG_NOTIFY),))
        dis = (uuid(DEVICE_INFO), (
            (uuid(MANUFACTURER_NAME), FLAG_READ),
            (uuid(MODEL_NUMBER), FLAG_READ),
            (uuid(FIRMWARE_REVISION), FLAG_READ),
        ))
        handles = ble.gatts_register_services((lb, bat, dis))
        self.stream, self.control, self.status = handles[0]
        self.battery = handles[1][0]
        self.manufacturer, self.model, self.firmware = handles[2]
        ble.gatts_set_buffer(self.control, CONTROL_BUFFER)
        ble.gatts_write(self.manufacturer, MANUFACTURER.encode())
        ble.gatts_write(self.model, model.encode())
        ble.gatts_write(self.firmware, firmware.encode())
        self.battery_percent = -1
        self._battery_value = bytearray(1)
        self._uuid_le = uuid128_le(SERVICE_UUID)
        self.adv, self.resp = advertising(self.name, self._uuid_le)
        self._adv_level = -1  # the battery level self.adv carries

        self.reader = RingReader(ring, MAX_PAYLOAD)
        self.encoder = _p.FrameEncoder(self._enqueue, 1, False)  # small frames into the queue
        self._q = bytearray(QUEUE_SLOTS * SLOT_LEN)
        qmv = memoryview(self._q)
        self._qviews = []
        for s in range(QUEUE_SLOTS):
            base = s * SLOT_LEN
            self._qviews.append([qmv[base:base + k] for k in range(SLOT_LEN + 1)])
        self._qlen = bytearray(QUEUE_SLOTS)
        self._qhead = 0
        self._qcount = 0
        self._cmd = bytearray(CMD_SLOTS * CONTROL_BUFFER)
        cmv = memoryview(self._cmd)
        self._cmd_views = [cmv[s * CONTROL_BUFFER:(s + 1) * CONTROL_BUFFER]
                           for s in range(CMD_SLOTS)]
        self._cmd_len = bytearray(CMD_SLOTS)
        self._cmd_head = 0  # written by the IRQ only
        self._cmd_tail = 0  # written by the main loop only

        # Written by the IRQ handler, read by the main loop.
        self._irq_conn = -1
        self._epoch = 0
        self._refuse = -1
        self._mtu = DEFAULT_MTU
        self._mtu_epoch = 0
        self._interval = DEFAULT_INTERVAL
        self.encrypted = False
        self.bonded = False
        # Main-loop state.
        self.conn = -1
        self._epoch_seen = 0
        self._mtu_seen = 0
        self.mtu = DEFAULT_MTU
        self.seq = 0
        self._pending = None
        self._tokens = 0
        self._rate = NOTIFY_PER_INTERVAL * 800 // DEFAULT_INTERVAL
        self._interval_seen = -1
        self.advertising = False
        self._adv_wait = 0
        # Counters for status and tests.
        self.connections = 0
        self.refused = 0
        self.notified = 0
        self.enomem = 0
        self.notify_errors = 0
        self.dropped = 0
        self.cmd_dropped = 0
        self.adv_errors = 0
        self._set_shape(DEFAULT_MTU)
        self._advertise()

    # ------------------------------------------------------------------ IRQ context

    def _irq(self, event, data):
        if event == _IRQ_GATTS_WRITE:
            conn, attr = data
            if attr == self.control and conn == self._irq_conn:
                self._take_command()
        elif event == _IRQ_CENTRAL_CONNECT:
            conn = data[0]
            if self._irq_conn >= 0:
                self._refuse = conn  # one central at a time
            else:
                self._irq_conn = conn
                self._epoch += 1
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self._irq_conn:
                self._irq_conn = -1
                self._epoch += 1
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self._irq_conn:
                self._mtu = data[1]
                self._mtu_epoch += 1
        elif event == _IRQ_CONNECTION_UPDATE:
            if data[0] == self._irq_conn and data[4] == 0:
                self._interval = data[1]
        elif event == _IRQ_ENCRYPTION_UPDATE:
            if data[0] == self._irq_conn:
                self.encrypted = bool(data[1])
                self.bonded = bool(data[3])
        elif event == _IRQ_GET_SECRET:
            if self.bonds is not None:
                return self.bonds.get(data[0], data[1], data[2])
            return None
        elif event == _IRQ_SET_SECRET:
            if self.bonds is not None:
                return self.bonds.put(data[0], data[1], data[2])
            return False
        elif event == _IRQ_GATTS_READ_REQUEST:
            return 0
        return None

    def _take_command(self):
        if self._cmd_head - self._cmd_tail >= CMD_SLOTS:
            self.cmd_dropped += 1  # the host hears nothing and sends again
            return
        value = self._ble.gatts_read(self.control)
        n = len(value)
        if n > CONTROL_BUFFER:
            n = CONTROL_BUFFER
        s = self._cmd_head % CMD_SLOTS
        self._cmd_views[s][:n] = value[:n] if n < len(value) else value
        self._cmd_len[s] = n
        self._cmd_head += 1

    # ------------------------------------------------------------------ main loop

    @property
    def connected(self):
        return self.conn >= 0

    def command_len(self):
        """Length of the oldest unhandled control write, or -1 when there is none."""
        if self._cmd_tail == self._cmd_head:
            return -1
        return self._cmd_len[self._cmd_tail % CMD_SLOTS]

    def command_view(self):
        return self._cmd_views[self._cmd_tail % CMD_SLOTS]

    def command_done(self):
        self._cmd_tail += 1

    def service(self):
        """Apply what the IRQ recorded; JOINED / LOST / RESIZED bits for the caller."""
        changed = 0
        if self._epoch != self._epoch_seen:
            self._epoch_seen = self._epoch
            c = self._irq_conn
            if c != self.conn:
                if self.conn >= 0:
                    self._on_disconnect()
                    changed |= LOST
                if c >= 0:
                    self._on_connect(c)
                    changed |= JOINED
        if self._refuse >= 0:
            r = self._refuse
            self._refuse = -1
            self.refused += 1
            try:
                self._ble.gap_disconnect(r)
            except OSError:
                pass
        if self._mtu_epoch != self._mtu_seen:
            self._mtu_seen = self._mtu_epoch
            if self.conn >= 0 and self._mtu != self.mtu:
                self._set_shape(self._mtu)
                changed |= RESIZED
        if self._interval != self._interval_seen:
            self._interval_seen = self._interval
            iv = self._interval if self._interval > 0 else DEFAULT_INTERVAL
            # Tokens are thousandths of a notification, added per elapsed ms.
            self._rate = NOTIFY_PER_INTERVAL * 800 // iv
        if self.conn < 0 and not self.advertising:
            if self._adv_wait > 0:
                self._adv_wait -= 1
            else:
                self._advertise()
        if self.bonds is not None and self.bonds.dirty:
            self.bonds.save()
        return changed

    def _advertise(self):
        if self._adv_level != self.battery_percent:  # not while connected: no allocation
            self._adv_level = self.battery_percent
            self.adv, self.resp = advertising(self.name, self._uuid_le, self.battery_percent)
        try:
            self._ble.gap_advertise(ADV_INTERVAL_US, adv_data=self.adv, resp_data=self.resp)
            self.advertising = True
        except OSError:
            self.advertising = False
            self.adv_errors += 1
            self._adv_wait = ADV_RETRY_PASSES

    def _on_connect(self, conn):
        self.conn = conn
        self.connections += 1
        self.advertising = False  # a connectable advertisement ends with the connection
        self.seq = 0
        self._qhead = 0
        self._qcount = 0
        self._pending = None
        self._tokens = NOTIFY_BURST * 1000
        self.encrypted = False
        self.bonded = False
        self._set_shape(DEFAULT_MTU)
        self.reader.follow()
        self.reader.cancel_resend()
        try:
            self._ble.gattc_exchange_mtu(conn)
        except OSError:
            pass  # the central may have started it already; its IRQ arrives either way

    def _on_disconnect(self):
        self.conn = -1
        self._qcount = 0
        self._pending = None
        self.reader.cancel_resend()
        self._interval = DEFAULT_INTERVAL

    def _set_shape(self, mtu):
        self.mtu = mtu
        batch, raw, resend = link_shape(mtu, self.rate_hz)
        self.reader.configure(batch, raw, resend)

    def start_resend(self, first, count):
        """Begin a RESEND on this link: samples available, or -1 while one is running."""
        if self.reader.resending():
            return -1
        return self.reader.resend_start(first, count)

    def set_battery(self, percent):
        """Battery Level characteristic; subscribed centrals are notified of a change.
        While advertising, the advertisement is renewed with the new level."""
        if percent == self.battery_percent:
            return
        self.battery_percent = percent
        self._battery_value[0] = percent
        try:
            self._ble.gatts_write(self.battery, self._battery_value, self.conn >= 0)
        except OSError:
            pass
        if self.advertising and self._irq_conn < 0:
            self._advertise()

    def _enqueue(self, view):
        """FrameEncoder sink: copy a small frame into the queue (dropped when offline)."""
        if self.conn < 0:
            return
        n = len(view)
        if view[1] == _p.FT_INFO:
            self._ble.gatts_write(self.status, view)  # what a read of status returns
        if self._qcount >= QUEUE_SLOTS:
            self.dropped += 1
            return
        s = (self._qhead + self._qcount) % QUEUE_SLOTS
        self._qviews[s][n][:] = view
        self._qlen[s] = n
        self._qcount += 1

    def queued(self):
        return self._qcount

    def pump(self, elapsed_ms):
        """Send what the token bucket allows; returns notifications sent this pass."""
        if self.conn < 0:
            return 0
        tok = self._tokens + elapsed_ms * self._rate
        if tok > NOTIFY_BURST * 1000:
            tok = NOTIFY_BURST * 1000
        sent = 0
        while tok >= 1000:
            r = self._send_one()
            if r <= 0:
                if r < 0:
                    tok = 0  # the controller is full: nothing more this pass
                break
            tok -= 1000
            sent += 1
        self._tokens = tok
        return sent

    def _send_one(self):
        if self._qcount:
            s = self._qhead
            view = self._qviews[s][self._qlen[s]]
            handle = self.stream if view[1] == _p.FT_EVENT else self.status
            r = self._notify(handle, view)
            if r > 0:
                self._qhead = (s + 1) % QUEUE_SLOTS
                self._qcount -= 1
            return r
        view = self._pending
        if view is None:
            rd = self.reader
            view = rd.live_frame()
            if view is None and rd.resend_next < rd.resend_end:
                view = rd.resend_frame()
            if view is None:
                return 0
            self._pending = view
        r = self._notify(self.stream, view)
        if r > 0:
            self._pending = None
        return r

    def _notify(self, handle, view):
        stamp(view, self.seq)
        try:
            self._ble.gatts_notify(self.conn, handle, view)
        except OSError as e:
            if e.args and e.args[0] == _ENOMEM:
                self.enomem += 1
            else:
                self.notify_errors += 1  # link going down; the disconnect IRQ follows
            return -1
        self.seq = (self.seq + 1) & 0xFFFF
        self.notified += 1
        return 1
