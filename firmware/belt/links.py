"""The belt's links, serviced once per main-loop pass: USB and BLE in, commands, frames out.

Built by app.App; owns the resend ring, the Outlet the pipeline writes to, the USB link,
the BLE peripheral (when the hal has a radio), the command dispatcher with its key and
counter, and the USB command reader (on the board). `service(now)`:

    1. USB input: deframe waiting bytes, dispatch each COMMAND
    2. BLE: apply connection / MTU changes (INFO + STATUS + CALIBRATION on connect),
       dispatch control writes, STATUS every second and on a state change, battery level
    3. send: BLE notifications as pacing allows, USB RESEND frames

Also the `belt` the dispatcher acts on (commands.py): `ready`, `play`, `send_status`,
`settings_changed`, `set_mount`, `mount_changed`, `say`.

Files live under ROOT (the board's flash root; tests point it at a scratch directory).
"""

from belt import ble as _ble
from belt import ring as _ring
from belt.auth import Auth
from belt.commands import Commands
from belt.outlet import Outlet, UsbLink
from belt.pipeline import STATE_RUNNING

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

ROOT = "/"
STATUS_MS = const(1000)
MODEL = "LevelBelt clip"


class Links:
    def __init__(self, app, usb_encoder, say, ble=None, uuid=None, usb_input=False,
                 state=None):
        self.app = app
        # STATUS `state` of the app (0 calibrating, 1 running, 2 no IMU, 3 unsupported IMU);
        # the pipeline's own state when not given.
        self._state = state
        self.rate_hz = app.rate_hz
        self.say = say
        self.ring = _ring.SampleRing(_ring.capacity_for(app.rate_hz))
        self.usb = UsbLink(usb_encoder, self.ring)
        self.ble = None
        if ble is not None and uuid is not None:
            from belt import VERSION

            fw = "%d.%d.%d" % VERSION
            self.ble = _ble.Peripheral(ble, uuid, self.ring, app.rate_hz, fw, MODEL,
                                       ROOT + "ble.bonds")
        self.outlet = Outlet(self.ring, usb_encoder, self.ble)
        self.auth = Auth(ROOT + "belt.key", ROOT + "belt.ctr")
        self.commands = Commands(self, self.auth)
        self.usb_input = None
        if usb_input:
            from belt.usb_in import from_stdin

            self.usb_input = from_stdin(self.usb_frame, app.hal.ticks_diff)
        self._last = app.hal.ticks_ms()
        self._since_status = 0
        self._state_seen = -1

    @property
    def pipeline(self):
        return self.app.pipeline

    # ------------------------------------------------------------- for commands.py

    def ready(self):
        """An IMU is streaming and the start-up calibration is done."""
        return self.app.imu is not None and self.app.pipeline.state == STATE_RUNNING

    def play(self, pattern):
        """Play a haptic pattern (haptics.py IDs); False when the haptics refuse it."""
        return self.app.haptics.play(pattern)

    def state(self):
        return self._state(self.app) if self._state is not None else self.app.pipeline.state

    def send_status(self, encoder):
        """A STATUS frame on `encoder` (a link's, or the outlet for all); allocation-free."""
        app = self.app
        p = app.pipeline
        d = p.detector
        cfg = d.side_config(d.stance)
        imu = app.imu
        battery = getattr(app, "battery", None)
        encoder.status(self.state(), d.stance, battery.mv if battery is not None else 0,
                       imu.overflows & 0xFFFF if imu is not None else 0, cfg[0], cfg[1],
                       cfg[2], p.index if p.index > 0 else 0)

    def settings_changed(self):
        """A command changed detector settings: keep them, and tell every link."""
        settings = getattr(self.app, "settings", None)
        if settings is not None:
            reason = settings.save_detector(self.app.pipeline.detector)
            if reason is not None:  # applied, but not kept over a reboot
                self.say("detector settings not saved: " + reason)
        self.send_status(self.outlet)

    def set_mount(self, mount):
        """SET_MOUNT: keep the new mount in the settings file, then apply it. False (a
        console line says why, nothing changed) when the file cannot be written: a mount
        that quietly went back at the next start would turn every angle."""
        p = self.app.pipeline
        if p.align.mount.lower() == mount:
            return True  # already in use: the captured neutrals stay valid
        settings = getattr(self.app, "settings", None)
        if settings is not None:
            reason = settings.save_mount(mount)
            if reason is not None:
                self.say("mount not changed: " + reason)
                return False
        p.set_mount(mount)
        return True

    def mount_changed(self):
        """After SET_MOUNT: CALIBRATION on every link, flagging the neutral to capture."""
        self._send_calibration(self.outlet)

    def _send_calibration(self, encoder):
        p = self.app.pipeline
        if p.state == STATE_RUNNING:
            p.send_calibration(encoder)

    # ------------------------------------------------------------- main loop

    def usb_frame(self, buf, n):
        """A COMMAND frame from the USB input (usb_in.UsbInput calls this)."""
        self.commands.handle(buf, n, self.usb)

    def service(self, now):
        elapsed = self.app.hal.ticks_diff(now, self._last)
        self._last = now
        if self.usb_input is not None:
            self.usb_input.poll(now)
        b = self.ble
        if b is not None:
            changed = b.service()
            if b.conn >= 0:
                if changed & (_ble.JOINED | _ble.RESIZED):
                    self.outlet.ble_info()
                if changed & _ble.JOINED:
                    self.send_status(b.encoder)
                    self._send_calibration(b.encoder)
                    self._since_status = 0
            while b.command_len() >= 0:
                self.commands.handle(b.command_view(), b.command_len(), b)
                b.command_done()
            self._since_status += elapsed
            state = self.state()
            if self._since_status >= STATUS_MS or state != self._state_seen:
                self._since_status = 0
                self._state_seen = state
                if b.conn >= 0:
                    self.send_status(b.encoder)
                battery = getattr(self.app, "battery", None)
                if battery is not None and battery.present:  # a cell measured, not a guess
                    b.set_battery(battery.percent)
            b.pump(elapsed)
        self.usb.pump()

    def close(self):
        if self.usb_input is not None:
            self.usb_input.close()

