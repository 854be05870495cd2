"""Golden byte vectors of protocol v1, checked by the firmware encoder and the host decoder.

Plain data so it imports on MicroPython and CPython alike.
"""

# One SAMPLES frame, seq 7, first index 1000, two samples:
# (ax, ay, az, gx, gy, gz, tilt, obl) = (12, 998, -35, 16, -32, 0, 250, -512)
#                                     and (-1, 1001, 0, 0, 8, -16, 251, -530)
SAMPLES_SEQ = 7
SAMPLES_INDEX = 1000
SAMPLES_ROWS = ((12, 998, -35, 16, -32, 0, 250, -512), (-1, 1001, 0, 0, 8, -16, 251, -530))
SAMPLES_HEX = (
    "0110" "0700" "e8030000"
    "0c00" "e603" "ddff" "1000" "e0ff" "0000" "fa00" "00fe"
    "ffff" "e903" "0000" "0000" "0800" "f0ff" "fb00" "eefd"
)

# TILT frame, seq 65535, first index 70000, three samples of (tilt, obl).
TILT_SEQ = 65535
TILT_INDEX = 70000
TILT_ROWS = ((-300, 40), (-301, 41), (-302, 700))
TILT_HEX = "0111" "ffff" "70110100" "d4fe2800" "d3fe2900" "d2febc02"

# EVENT: drop cue, right side lower, at index 1234 with onset 1219, peak 6.12 deg.
EVENT_HEX = "0120" "0000" "01" "02" "d2040000" "c3040000" "6402"

# ACK of command 0x02 with counter 5, status out of range.
ACK_HEX = "0141" "0000" "02" "05000000" "03"

# CRC-16/CCITT-FALSE check value and a COBS-wrapped frame (frame + CRC LE + 0x00).
CRC_CHECK_INPUT = "123456789"
CRC_CHECK_VALUE = 0x29B1
USB_FRAME_HEX = "0141" "0000" "02" "05000000" "03"
USB_WIRE_HEX = "030141" "01" "030205" "01" "01" "0403f2a2" "00"
