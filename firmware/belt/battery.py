"""The LiPo cell through the ADC divider: smoothed mV, percent, low and critical flags.

    b = Battery(adc, clock, divider)   adc: machine.ADC with read_uv(); divider: V_bat / V_pin
    b.update(now_ms, loaded)  every loop pass; reads once per READ_MS, never while the
                              motor runs (`loaded`: its current sags the cell by tens of mV)
    b.mv        smoothed cell voltage in mV for STATUS `battery_mv` (0: no reading, no cell)
    b.percent   0..100 for the Battery Service (100 with no cell: running from USB)
    b.present   False while the pin reads below NO_CELL_MV (no cell, or the switch is off
                and USB powers the board)
    b.low       below LOW_MV (about 5 %), cleared above LOW_MV + HYSTERESIS_MV
    b.critical  below CRITICAL_MV, cleared above CRITICAL_MV + HYSTERESIS_MV
    b.remind(now_ms)  True when the LOW_BATTERY pattern is due: on becoming low, then
                      every REMIND_MS while it stays low (never while critical)

What the app does with it: low -> the LOW_BATTERY pattern now and every 5 minutes;
critical -> the motor is switched off and refused (its current could brown the board
out), while the IMU, the streaming and the radio keep going so the host sees why.

Each reading averages READS_PER_UPDATE calibrated `read_uv()` values (the ESP32 ADC is
noisy); readings then pass a running mean over SMOOTH readings. Percent follows a
resting LiPo discharge curve by linear interpolation; under load it reads a little low.
Nothing here allocates after construction.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

READ_MS = const(1000)
READS_PER_UPDATE = const(8)
SMOOTH = const(4)  # running mean over about 4 readings (4 s)
NO_CELL_MV = const(2500)
LOW_MV = const(3550)
CRITICAL_MV = const(3350)
HYSTERESIS_MV = const(100)
REMIND_MS = const(300000)

# Resting single-cell LiPo: (mV, percent), ascending.
CURVE = (
    (3300, 0), (3600, 5), (3690, 10), (3730, 20), (3770, 30), (3800, 40),
    (3840, 50), (3870, 60), (3950, 70), (4020, 80), (4080, 90), (4200, 100),
)


def percent(mv):
    """Charge left, 0..100, for a resting cell voltage in mV."""
    if mv <= CURVE[0][0]:
        return 0
    for i in range(1, len(CURVE)):
        hi = CURVE[i]
        if mv < hi[0]:
            lo = CURVE[i - 1]
            span = hi[0] - lo[0]
            return lo[1] + ((mv - lo[0]) * (hi[1] - lo[1]) + span // 2) // span
    return 100


class Battery:
    def __init__(self, adc, clock, divider):
        self.adc = adc
        self.clock = clock
        self.divider = divider
        self.mv = 0
        self.percent = 100
        self.present = False
        self.low = False
        self.critical = False
        self.readings = 0
        self._acc = 0  # SMOOTH x the smoothed value
        self._due = 0
        self._started = False
        self._reminded = False
        self._remind_at = 0

    def read_mv(self):
        """One averaged reading of the cell, in mV (the divider undone)."""
        total = 0
        for _ in range(READS_PER_UPDATE):
            total += self.adc.read_uv()
        return (total // READS_PER_UPDATE) * self.divider // 1000

    def update(self, now, loaded=False):
        """Take a reading when one is due and the motor is off; True if one was taken."""
        if self._started and self.clock.ticks_diff(now, self._due) < 0:
            return False
        if loaded:
            return False
        self._started = True
        self._due = now + READ_MS
        mv = self.read_mv()
        if mv < NO_CELL_MV:
            self.present = False
            self.mv = 0
            self.percent = 100
            self.low = False
            self.critical = False
            self._acc = 0
            self._reminded = False
            return True
        if not self.present or self._acc == 0:
            self._acc = mv * SMOOTH  # the first reading seeds the mean
        else:
            self._acc += mv - self._acc // SMOOTH
        self.present = True
        self.readings += 1
        v = self._acc // SMOOTH
        self.mv = v
        self.percent = percent(v)
        if v < LOW_MV:
            self.low = True
        elif v > LOW_MV + HYSTERESIS_MV:
            self.low = False
            self._reminded = False
        if v < CRITICAL_MV:
            self.critical = True
        elif v > CRITICAL_MV + HYSTERESIS_MV:
            self.critical = False
        return True

    def remind(self, now):
        """True when a low-battery reminder should play now (see the module docstring)."""
        if not self.low or self.critical:
            return False
        if self._reminded and self.clock.ticks_diff(now, self._remind_at) < REMIND_MS:
            return False
        self._reminded = True
        self._remind_at = now
        return True
