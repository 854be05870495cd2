"""The per-sample code written out for speed gives exactly what the plain functions give.

Alignment.angles inlines fixedmath's isqrt and atan2_cdeg, the IMU drivers convert counts
through high-byte tables instead of accel_mg / gyro_dps16, and UsbFramer.send computes the
CRC-16 and the COBS encoding in one pass. Each is held here to the plain function, bit
for bit, on both interpreters.
"""

from belt import imu_lsm6dsox as lsm
from belt import imu_mpu6050 as mpu
from belt import protocol as P
from belt.align import Alignment
from belt.fixedmath import ONE, atan2_cdeg, isqrt


def _angles_by_the_functions(a, x, y, z):
    fx, fy, fz, rx, ry, rz, ux, uy, uz = (a.fx, a.fy, a.fz, a.rx, a.ry, a.rz, a.ux, a.uy,
                                          a.uz)
    gf = (fx * x + fy * y + fz * z) >> 14
    gr = (rx * x + ry * y + rz * z) >> 14
    gu = (ux * x + uy * y + uz * z) >> 14
    tilt = atan2_cdeg(-gf, isqrt(gr * gr + gu * gu, gu if gu > 0 else ONE))
    return tilt, atan2_cdeg(gr, gu)


def _vectors():
    """Every octant, the axes, zero, near-degenerate and out-of-unit lengths."""
    vals = (-20000, -ONE, -9000, -2500, -300, -1, 0, 1, 77, 4000, 11585, ONE, 19000)
    zs = (-20000, -9000, -300, 0, 77, 11585, 19000)
    for x in vals:
        for y in vals:
            for z in zs:
                yield x, y, z


def test_alignment_angles_equal_isqrt_and_atan2_for_every_mount_and_quadrant():
    checked = 0
    for mount in ("+x+y", "-z+x", "+y-z"):
        a = Alignment(mount)
        for neutral in ((0.0, 1.0, 0.0), (0.3, 0.9, -0.2), (-0.1, 0.2, 0.95)):
            a.capture(*neutral)
            for x, y, z in _vectors():
                a.angles(x, y, z)
                assert (a.tilt_cdeg, a.obl_cdeg) == _angles_by_the_functions(a, x, y, z), (
                    mount, neutral, x, y, z)
                checked += 1
    assert checked > 9000


def test_mpu6050_tables_convert_every_count_like_accel_mg_and_gyro_dps16():
    acc, gyr = mpu._high_byte_tables()
    for raw in range(-32768, 32768, 3):
        h = (raw >> 8) & 0xFF
        lo = raw & 0xFF
        x = acc[h] + lo * 1000
        q = x >> 13
        if not x & 0x1FFF and q & 1:
            q -= 1
        assert q == mpu.accel_mg(raw), raw
        assert (gyr[h] + (lo << 6)) // 262 == mpu.gyro_dps16(raw), raw
    for raw in (-1536, -512, 512, 1536, 31232):  # the ties: raw = 512 mod 1024
        x = acc[(raw >> 8) & 0xFF] + (raw & 0xFF) * 1000
        q = x >> 13
        if not x & 0x1FFF and q & 1:
            q -= 1
        assert q == mpu.accel_mg(raw), raw


def test_lsm6dsox_tables_convert_every_count_like_accel_mg_and_gyro_dps16():
    acc, gyr = lsm._high_byte_tables()
    ties = 0
    for raw in range(-32768, 32768, 3):
        h = (raw >> 8) & 0xFF
        lo = raw & 0xFF
        x = acc[h] + lo * 122
        q = x // 1000
        if x == q * 1000:
            ties += 1
            if q & 1:
                q -= 1
        assert q == lsm.accel_mg(raw), raw
        assert (gyr[h] + lo * 14) // 50 == lsm.gyro_dps16(raw), raw
    assert ties > 0  # the tie branch was exercised


def _cobs_crc_reference(frame):
    """COBS(frame + CRC-16 little-endian) + 0x00, written the plain way."""
    crc = P.crc16(frame, len(frame))
    data = list(frame) + [crc & 0xFF, crc >> 8]
    out = []
    block = []
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out.extend(block)
            block = []
        else:
            block.append(b)
    out.append(len(block) + 1)
    out.extend(block)
    out.append(0)
    return bytes(out)


def test_usb_framer_one_pass_equals_crc16_then_cobs_for_zeros_anywhere():
    sent = []
    framer = P.UsbFramer(lambda v: sent.append(bytes(v)))
    frames = [bytes(n) for n in (1, 2, 5, 40)]  # all zeros
    frames += [bytes([(i * 37 + 1) % 256 or 1 for i in range(n)]) for n in (1, 3, 88, 250)]
    for n in (1, 7, 88, 250):  # zeros at the start, the end, and scattered
        frames.append(bytes([0] + [(i * 11) % 256 for i in range(n - 1)]))
        frames.append(bytes([(i * 11 + 1) % 256 for i in range(n - 1)] + [0]))
    # Frames whose CRC has a zero byte (either half), found by search.
    low = high = None
    k = 0
    while low is None or high is None:
        f = bytes([1, 2, k & 0xFF, k >> 8])
        c = P.crc16(f, 4)
        if low is None and c & 0xFF == 0:
            low = f
        if high is None and c >> 8 == 0:
            high = f
        k += 1
    frames += [low, high]
    for f in frames:
        framer.send(memoryview(f))
        assert sent[-1] == _cobs_crc_reference(f), f
