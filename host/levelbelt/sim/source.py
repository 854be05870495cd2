"""Canonical IMU sample chunks from a body script: body model -> sensor model -> ints."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from levelbelt.sim.body import Segment, iter_body
from levelbelt.sim.sensor import SensorModel, SensorStream


def sample_chunks(
    script: Iterable[Segment], rate_hz: int, seed: int, chunk_s: float = 0.5,
    model: SensorModel | None = None,
) -> Iterator[NDArray[np.int64]]:
    """(k, 6) int chunks: accel mg, gyro 1/16 deg/s, sensor frame, as the belt reads them."""
    sensor = SensorStream(model or SensorModel(), seed)
    for trace in iter_body(script, rate_hz, seed, chunk_s=chunk_s):
        imu = sensor.measure(trace)
        yield np.hstack([imu.accel_mg, imu.gyro_16dps]).astype(np.int64)
