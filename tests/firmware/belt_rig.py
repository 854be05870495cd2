"""A whole belt on stand-ins for the link tests: the real `belt.app` with its links, on a
fake clock, a register-level MPU-6050, recording pins, a USB wire and the `bluetooth`
stand-in (fake_bluetooth), with the key in a scratch directory.

    rig = Rig()                    app started, 1.1 s of level samples (calibrated)
    rig.step(n, accel)             n sample periods, the loop serviced after each
    rig.ble.central_connect()      the central's side (fake_bluetooth.BLE)
    rig.command(cmd, args)         a tagged COMMAND frame with the next counter
    rig.usb_frames()               frames written to USB so far (COBS + CRC checked)
"""

import fake_bluetooth
import scratch
from fake_i2c import FakeClock, FakeI2C, FakeMPU6050

from belt import app as A
from belt import auth, links, usb_in
from belt import protocol as P
from belt import settings as S

KEY = bytes(range(0xA0, 0xC0))
LEVEL = (0, 8192, 0)  # sensor +Y up: +1 g on Y standing in the default mount


class Pin:
    def __init__(self):
        self.level = 0
        self.rises = 0

    def value(self, x=None):
        if x is None:
            return self.level
        x = 1 if x else 0
        if x and not self.level:
            self.rises += 1
        self.level = x
        return None


class Hal:
    """The attributes belt.hal.Hal has (bluetooth included)."""

    def __init__(self, clock, i2c, write, ble):
        self.i2c = i2c
        self.motor = Pin()
        self.led = Pin()
        self.write = write
        self.ticks_ms = clock.ticks_ms
        self.ticks_diff = clock.ticks_diff
        self.sleep_ms = clock.sleep_ms
        self.ble = ble
        self.uuid = fake_bluetooth.UUID if ble is not None else None


class SerialIn:
    """The console's input side: bytes the host wrote, read one `readinto` at a time."""

    def __init__(self):
        self.data = bytearray()
        self.pos = 0
        self.reads = 0

    def feed(self, b):
        self.data.extend(b)

    def readable(self):
        return self.pos < len(self.data)

    def readinto(self, buf):
        n = len(buf)
        for i in range(n):  # byte by byte: the stand-in itself must not allocate
            buf[i] = self.data[self.pos + i]
        self.pos += n
        self.reads += 1
        return n


class Wire:
    def __init__(self):
        self.data = bytearray()
        self.count = True

    def write(self, buf):
        if self.count:
            self.data.extend(buf)


def cobs_decode(block):
    out = bytearray()
    i = 0
    while i < len(block):
        code = block[i]
        if code == 0 or i + code > len(block):
            return None
        out.extend(block[i + 1:i + code])
        i += code
        if code < 0xFF and i < len(block):
            out.append(0)
    return bytes(out)


def cobs_encode(data):
    out = bytearray([0])
    code_at = 0
    code = 1
    for b in data:
        if b == 0:
            out[code_at] = code
            code_at = len(out)
            out.append(0)
            code = 1
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at = len(out)
                out.append(0)
                code = 1
    out[code_at] = code
    return bytes(out)


def usb_block(frame):
    """What the host writes for one frame: 0x00, COBS(frame + CRC16 LE), 0x00."""
    crc = P.crc16(frame, len(frame))
    return b"\x00" + cobs_encode(bytes(frame) + bytes((crc & 0xFF, crc >> 8))) + b"\x00"


def unframe(data):
    frames = []
    other = []
    for block in bytes(data).split(b"\x00"):
        if not block:
            continue
        raw = cobs_decode(block)
        n = len(raw) - 2 if raw is not None else 0
        if n < 4 or P.crc16(raw, n) != P.get_u16(raw, n):
            other.append(block)
        else:
            frames.append(raw[:-2])
    return frames, other


def u16(v):
    """A little-endian u16, as command arguments carry it."""
    b = bytearray(2)
    P.put_u16(b, 0, v)
    return bytes(b)


def u32(v):
    b = bytearray(4)
    P.put_u32(b, 0, v)
    return bytes(b)


def command(key, cmd, counter, args=b"", seq=0):
    """A COMMAND frame as the host builds it: header, command, counter, args, tag."""
    f = bytearray(9)
    f[0] = P.VERSION
    f[1] = P.FT_COMMAND
    P.put_u16(f, 2, seq)
    f[4] = cmd
    P.put_u32(f, 5, counter)
    f += args
    return bytes(f + auth.hmac_sha256(key, f)[:16])


def ack(frame):
    """(command, counter, status) of an ACK frame."""
    assert frame[1] == P.FT_ACK and len(frame) == P.ACK_LEN
    return frame[4], P.get_u32(frame, 5), frame[9]


def sample_runs(frames, types=(P.FT_SAMPLES, P.FT_TILT)):
    """Device index of every sample in frames of these types, in arrival order."""
    out = []
    for f in frames:
        if f[1] in types:
            per = P.SAMPLE_LEN if f[1] in (P.FT_SAMPLES, P.FT_RESENT_SAMPLES) else P.TILT_LEN
            first = P.get_u32(f, 4)
            for k in range((len(f) - P.BATCH_HEADER_LEN) // per):
                out.append(first + k)
    return out


class Rig:
    """`root`: the flash directory of an earlier Rig, to start the belt again on its files
    (a reboot); by default a fresh one. `settings=True`: the belt loads and keeps its
    settings file `belt.cfg` there, as `app.run` does on the board (by default they are
    kept in memory only)."""

    def __init__(self, ble=True, key=KEY, rate=100, calibrate=True, root=None, settings=False,
                 **ble_kwargs):
        self.clock = FakeClock()
        self.dev = FakeMPU6050(self.clock)
        self.wire = Wire()
        self.dir = root if root is not None else scratch.fresh_dir("rig")
        if key is not None and root is None:
            scratch.write(self.dir + "/belt.key", key)
        self.key = key if key is not None else KEY
        self.counter = 0
        self.ble = fake_bluetooth.BLE(self.clock, **ble_kwargs) if ble else None
        self.hal = Hal(self.clock, FakeI2C({0x68: self.dev}), self.wire.write, self.ble)
        saved = links.ROOT
        links.ROOT = self.dir + "/"
        try:
            stored = S.load(self.dir + "/belt.cfg") if settings else None
            self.app = A.start(self.hal, rate, settings=stored)
        finally:
            links.ROOT = saved
        self.links = self.app.links
        self.per = self.links.ble
        # The host's side of the USB console, read by the app's command input.
        self.serial = SerialIn()
        self.links.usb_input = usb_in.UsbInput(self.serial, self.serial.readable,
                                               self.links.usb_frame, self.clock.ticks_diff)
        if calibrate:
            self.step(110)

    def step(self, n, accel=LEVEL):
        for _ in range(n):
            self.dev.advance(1, accel=accel)
            A.service(self.app)

    def idle(self, ms):
        """Loop passes every 5 ms with no new samples (the FIFO is empty)."""
        for _ in range(ms // A.LOOP_MS):
            self.clock.sleep_ms(A.LOOP_MS)
            self.dev.catch_up()
            A.service(self.app)

    def command(self, cmd, args=b"", counter=None, key=None):
        if counter is None:
            self.counter += 1
            counter = self.counter
        return command(self.key if key is None else key, cmd, counter, args)

    def usb_frames(self):
        return unframe(self.wire.data)

    def usb_send(self, frame):
        """The host writes one frame to the USB console; the next loop pass reads it."""
        self.serial.feed(usb_block(frame))

    # --- the central's view -------------------------------------------------------------

    def connect(self, mtu=None):
        """Connect a central; with `mtu` it also answers the belt's MTU request."""
        if mtu is not None:
            self.ble.central_mtu = mtu
        self.ble.central_connect()
        A.service(self.app)
        return self.ble.conn

    def stream(self):
        return self.ble.received(self.per.stream)

    def status(self):
        return self.ble.received(self.per.status)

    def write(self, frame):
        self.ble.central_write(self.per.control, frame)
