"""One simulated day of the Sentinel-2 PRIP seed: which products arrive, how big they are,
and how a production chain drops them into the inbox.

The seed's day is ~150,000 products and ~500,000 OLQC quality reports, ~10 TB. The mix below
matches it by count and by volume: L0 granules (~18 MB), L2A tiles (200-800 MB, by how much
of the tile the swath covers), HKTM dumps (1-5 MB, by the length of the pass) and OLQC
reports (a few KB). Granules, tiles and OLQC reports come from ``prip_ray.synthetic``; HKTM
dumps are written here, named as the type registry expects them (``PRD_HKTM__``, a plain file).

Reports inspect the day's granules, four each (500k reports for 125k granules): report ``i``
is about granule ``i // 4``, so a report arrives before or after its granule as the draw
goes. About 2% fail and 0.5% end in error, drawn from the report's index.

A size is drawn at its real value and written at ``real * byte_scale`` (never below what a
valid product needs), so a run can report both the bytes it moved and the real equivalent.
Every product is written under a temporary dot-name and renamed when complete, as the inbox
convention asks.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prip_ray import synthetic
from prip_ray.synthetic import granule_name, make_product

KB, MB = 1_000, 1_000_000
DAY_S = 86_400
DAY_START = datetime(2025, 8, 1, 0, 0, tzinfo=UTC)  # content dates of the simulated day
SEED_PRODUCTS_PER_DAY = 150_000
SEED_REPORTS_PER_DAY = 500_000
SEED_BYTES_PER_DAY = 10e12


@dataclass(frozen=True)
class Kind:
    label: str
    product_type: str
    per_day: int  # how many the seed publishes in a day
    draw_bytes: Callable[[random.Random], int]  # a real size, drawn


def _granule_bytes(rng: random.Random) -> int:
    return int(rng.lognormvariate(0, 0.08) * 18 * MB)  # compression varies a little


def _tile_bytes(rng: random.Random) -> int:
    return int((200 + 600 * rng.betavariate(2, 2)) * MB)  # swath coverage of the tile


def _hktm_bytes(rng: random.Random) -> int:
    return int(rng.uniform(1, 5) * MB)  # length of the pass


def _report_bytes(rng: random.Random) -> int:
    return int(rng.uniform(2, 8) * KB)  # number of checks


MIX = (
    Kind("granule", "MSI_L0__GR", 125_000, _granule_bytes),
    Kind("tile", "MSI_L2A_TL", 15_000, _tile_bytes),
    Kind("hktm", "PRD_HKTM__", 10_000, _hktm_bytes),
    Kind("olqc", "REP_OLQCPA", SEED_REPORTS_PER_DAY, _report_bytes),
)
MEAN_BYTES = {"granule": 18 * MB, "tile": 500 * MB, "hktm": 3 * MB, "olqc": 5 * KB}


def items_per_day() -> int:
    return sum(kind.per_day for kind in MIX)


def bytes_per_day() -> float:
    """The mix's expected volume of a day (the seed says ~10 TB)."""
    return sum(kind.per_day * MEAN_BYTES[kind.label] for kind in MIX)


@dataclass(frozen=True)
class Dropped:
    name: str
    kind: str
    real_bytes: int  # the size drawn for the real product
    file_bytes: int  # what was written (real_bytes * byte_scale, or a valid minimum)
    dropped_at: float  # time.time() of the rename into the inbox


class DayMix:
    """Draws the next product of the day (kind and size) from a seeded generator."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)
        self._next_index = {kind.label: 0 for kind in MIX}

    def next(self) -> tuple[Kind, int, int]:
        """(kind, index among products of that kind, real size in bytes)."""
        kind = self._rng.choices(MIX, weights=[k.per_day for k in MIX])[0]
        index = self._next_index[kind.label]
        self._next_index[kind.label] += 1
        return kind, index, kind.draw_bytes(self._rng)


def drop(inbox: Path, kind: Kind, index: int, real_bytes: int, byte_scale: float) -> Dropped:
    """Write one product of ``kind`` into ``inbox`` (temporary name, then rename)."""
    scaled = int(real_bytes * byte_scale)
    if kind.label in ("granule", "tile"):
        path = make_product(inbox, kind.label, index, scaled, start=DAY_START).path
    elif kind.label == "hktm":
        path = _write(inbox, hktm_name(index), _random_bytes(max(scaled, 1)))
    else:
        path = _write(inbox, olqc_name(index), olqc_report(olqc_name(index), index, scaled))
    return Dropped(path.name, kind.label, real_bytes, path.stat().st_size, time.time())


def hktm_name(index: int) -> str:
    """One HKTM dump per pass: ``S2B_OPER_PRD_HKTM___<start>_<stop>_<counter>``."""
    start = DAY_START + timedelta(seconds=10 * index)
    stop = start + timedelta(seconds=8)
    return f"S2B_OPER_PRD_HKTM___{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_{index % 10_000:04d}"


def olqc_name(index: int) -> str:
    """Report ``index`` of the day: created a second after the one before it."""
    return synthetic.olqc_report_name(_report_created(index))


REPORTS_PER_GRANULE = 4
_CHECK_BYTES = 600  # what one more check adds to a report, about
_HEADER_BYTES = 2_000  # a report's header and checklist without checks


def olqc_report(name: str, index: int, size: int) -> bytes:
    """Report ``index`` (named ``olqc_name(index)``) of about ``size`` bytes: as many checks
    as that takes, on the granule it inspects, with the status drawn for it."""
    made, document = synthetic.olqc_report(
        olqc_inspected(index),
        olqc_status(index),
        created=_report_created(index),
        checks=max(1, (size - _HEADER_BYTES) // _CHECK_BYTES),
    )
    assert made == name, f"report {index} is named {made}, not {name}"
    return document


def olqc_inspected(index: int) -> str:
    return granule_name(index // REPORTS_PER_GRANULE, DAY_START)


def olqc_status(index: int) -> str:
    draw = random.Random(index).random()
    return "FAILED" if draw < 0.02 else "ERROR" if draw < 0.025 else "PASSED"


def _report_created(index: int) -> datetime:
    return DAY_START + timedelta(minutes=40, seconds=index)


def _random_bytes(size: int) -> bytes:
    block = os.urandom(min(size, 1 << 20))
    return (block * (size // len(block) + 1))[:size]


def _write(inbox: Path, name: str, data: bytes) -> Path:
    tmp, path = inbox / f".{name}.part", inbox / name
    tmp.write_bytes(data)
    tmp.rename(path)
    return path
