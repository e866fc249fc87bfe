"""The vectorised solar elevation, against known positions and an independent formula."""

from __future__ import annotations

import datetime as dt
import math
import random

import pyarrow as pa
import pytest

from odse.validation.solar import solar_elevation

UTC = dt.timezone.utc


def elevation(when: dt.datetime, latitude: float, longitude: float) -> float:
    times = pa.array([when], pa.timestamp("us", tz="UTC"))
    return solar_elevation(times, latitude, longitude)[0].as_py()


@pytest.mark.parametrize(("when", "latitude", "longitude", "expected", "tolerance"), [
    # June solstice, solar noon at Greenwich: 90 - 51.4769 + 23.44
    (dt.datetime(2026, 6, 21, 12, 1, 45, tzinfo=UTC), 51.4769, 0.0, 61.96, 0.05),
    # sunrise at Greenwich that day, 03:43 UTC: the centre about 0.83 deg below the horizon
    (dt.datetime(2026, 6, 21, 3, 43, tzinfo=UTC), 51.4769, 0.0, -0.83, 0.25),
    # March equinox, local noon on the equator at Greenwich's meridian: the sun near zenith
    (dt.datetime(2026, 3, 20, 12, 7, tzinfo=UTC), 0.0, 0.0, 89.9, 0.3),
    # the same instant seen from the antimeridian: near nadir
    (dt.datetime(2026, 3, 20, 12, 7, tzinfo=UTC), 0.0, 180.0, -89.9, 0.3),
    # December solstice, solar noon on the Tropic of Capricorn (lon 0, about 11:58 UTC)
    (dt.datetime(2026, 12, 21, 11, 58, tzinfo=UTC), -23.44, 0.0, 90.0, 0.3),
])
def test_known_positions(when: dt.datetime, latitude: float, longitude: float,
                         expected: float, tolerance: float) -> None:
    assert elevation(when, latitude, longitude) == pytest.approx(expected, abs=tolerance)


def spencer_elevation(when: dt.datetime, latitude: float, longitude: float) -> float:
    """Elevation from Spencer's (1971) Fourier series, an independent and coarser method."""
    day = when.timetuple().tm_yday
    hours = when.hour + when.minute / 60 + when.second / 3600
    gamma = 2 * math.pi / 365 * (day - 1 + (hours - 12) / 24)
    decl = (0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma)
            - 0.006758 * math.cos(2 * gamma) + 0.000907 * math.sin(2 * gamma)
            - 0.002697 * math.cos(3 * gamma) + 0.00148 * math.sin(3 * gamma))
    eot = 229.18 * (0.000075 + 0.001868 * math.cos(gamma) - 0.032077 * math.sin(gamma)
                    - 0.014615 * math.cos(2 * gamma) - 0.040849 * math.sin(2 * gamma))
    solar_minutes = hours * 60 + eot + 4 * longitude
    hour_angle = math.radians(solar_minutes / 4 - 180)
    lat = math.radians(latitude)
    sin_el = (math.sin(lat) * math.sin(decl)
              + math.cos(lat) * math.cos(decl) * math.cos(hour_angle))
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))


def test_agrees_with_an_independent_formula_everywhere() -> None:
    # Spencer's series ignores where a date falls in the leap-year cycle (up to ~0.75 day of
    # orbit, ~0.4 deg of declination near the equinoxes), so the bound is 1 deg: this catches
    # a wrong sign, unit or hour angle anywhere on Earth; test_known_positions the precision.
    rng = random.Random(7)
    start = dt.datetime(1990, 1, 1, tzinfo=UTC)
    cases = [(start + dt.timedelta(seconds=rng.randrange(60 * 365 * 86400)),
              rng.uniform(-89, 89), rng.uniform(-180, 180)) for _ in range(500)]
    for when, lat, lon in cases:
        assert elevation(when, lat, lon) == pytest.approx(spencer_elevation(when, lat, lon),
                                                          abs=1.0), (when, lat, lon)


def test_vectorised_over_many_times_and_any_unit() -> None:
    base = dt.datetime(2026, 2, 9, tzinfo=UTC)
    moments = [base + dt.timedelta(minutes=15 * i) for i in range(96)]
    in_us = solar_elevation(pa.array(moments, pa.timestamp("us", tz="UTC")), -26.2, 28.05)
    in_ns = solar_elevation(pa.array(moments, pa.timestamp("ns", tz="UTC")), -26.2, 28.05)
    naive = solar_elevation(pa.array([m.replace(tzinfo=None) for m in moments],
                                     pa.timestamp("s")), -26.2, 28.05)
    assert in_us.to_pylist() == pytest.approx(in_ns.to_pylist(), abs=1e-9)
    assert in_us.to_pylist() == pytest.approx(naive.to_pylist(), abs=1e-9)
    values = in_us.to_pylist()
    assert len(values) == 96
    # Johannesburg: highest near 10:15 UTC (12:15 local), lowest near 22:15 UTC
    assert values.index(max(values)) in (40, 41)
    assert values.index(min(values)) in (88, 89)
    # the sun culminates 90 - |lat - decl| above and that far below the horizon (decl -14.7)
    assert min(values) == pytest.approx(-49.3, abs=0.3)
    assert max(values) == pytest.approx(78.4, abs=0.6)


def test_nulls_pass_through() -> None:
    times = pa.array([None, dt.datetime(2026, 2, 9, 10, tzinfo=UTC)],
                     pa.timestamp("us", tz="UTC"))
    result = solar_elevation(times, 0.0, 0.0)
    assert result[0].as_py() is None
    assert result[1].as_py() is not None
