"""Pin numbers and board settings for one concrete board: Seeed Studio XIAO ESP32-S3.

Wiring (XIAO pad -> ESP32-S3 GPIO -> part):

    D4  GPIO5   I2C SDA  -> MPU-6050 SDA (GY-521 breakout, its own 4.7k pull-ups to 3V3)
    D5  GPIO6   I2C SCL  -> MPU-6050 SCL
    3V3 / GND            -> MPU-6050 VCC / GND; AD0 to GND (address 0x68; 0x69 also found)
    D1  GPIO2   motor    -> 1k into the gate of a logic-level N-MOSFET (100k gate pull-down,
                            so the motor stays off while the pin floats during boot) that
                            switches the coin motor from 3V3; flyback diode across the motor
                            (with two motors: the one on the left hip)
    D3  GPIO4   motor 2  -> the same driver for the right-hip motor (two-motor build only)
    D0  GPIO1   battery  -> middle of a 2 x 100k divider from the LiPo + (battery level
                            for STATUS and the Battery Service, see battery.py)
    BOOT GPIO0  safe mode (on-board button, active low)
    LED GPIO21  on-board user LED (active low)

GPIO0, GPIO3, GPIO45 and GPIO46 are ESP32-S3 strapping pins; none of them drives a load
here. GPIO0 held low *through* a reset selects the ROM download mode, so safe mode is read
in a window just after boot (see `SAFE_MODE_WINDOW_MS` and firmware/README.md).

Keep this a flat list of `NAME = const(value)` lines with a comment each, so a pin map
can be generated from it or checked against it line by line.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

I2C_ID = const(0)  # hardware I2C controller 0
I2C_SDA = const(5)  # D4
I2C_SCL = const(6)  # D5
I2C_FREQ = const(400000)  # Hz, MPU-6050 fast mode maximum
MOTOR_PIN = const(2)  # D1, high = motor on (through the MOSFET)
MOTOR_COUNT = const(1)  # motors fitted; 2 sets INFO flag bit 0 and drives MOTOR2_PIN too
MOTOR2_PIN = const(4)  # D3, the right-hip motor of the two-motor build, high = on
SAFE_MODE_PIN = const(0)  # BOOT button, low while pressed
SAFE_MODE_WINDOW_MS = const(1000)  # how long after boot a BOOT press still selects safe mode
BATTERY_ADC_PIN = const(1)  # D0 / A0, ADC1 channel 0
BATTERY_DIVIDER = const(2)  # battery voltage = ADC pin voltage x 2
LED_PIN = const(21)  # on-board user LED
LED_ACTIVE_LOW = const(1)  # 1: the LED lights when the pin is low
