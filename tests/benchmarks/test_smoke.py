"""Every benchmark in benchmarks/ still runs: each once, tiny, as its own process (as an
operator starts it), and the figures it exists to print are there and make sense.

A benchmark nobody ran for a while breaks quietly (a fresh folder it never created, a flag
that moved); these runs take seconds each, not the minutes of a real measurement. Those
that start Ray start a local instance of their own (``address="local"``, no dashboard,
token auth off as for the suite's own Ray); databases are fresh ones on the session's
PostgreSQL, S3 is the session's SeaweedFS.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.seaweedfs import S3Server

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"([\d.]+)"


@dataclass(frozen=True)
class Needs:
    """What a benchmark may need, asked for only by those that do (the others run without
    PostgreSQL or S3 at hand)."""

    pg_server: Callable[[], str]  # postgresql://... of the session's server, no database
    pg_url: Callable[[], str]  # a fresh database on it, dropped after the test
    s3: Callable[[], S3Server]


def _run(module: str, *args: str, timeout: float = 240) -> str:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # never join a Ray
    env["RAY_AUTH_MODE"] = "disabled"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", f"benchmarks.{module}", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        # Once more, after saying why: each of these benchmarks starts a local Ray of its
        # own, and the one the previous benchmark started may still be shutting down on
        # this machine's two cores. A benchmark that is broken fails the second time too.
        print(f"benchmarks.{module} failed once (exit {done.returncode}):\n{done.stderr[-4000:]}")
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout


def _figures(pattern: str, out: str) -> list[tuple[float, ...]]:
    """The numbers of every line matching ``pattern`` (its groups), as floats."""
    found = [tuple(map(float, m.groups())) for m in re.finditer(pattern, out, re.MULTILINE)]
    assert found, f"no line like {pattern!r} in:\n{out}"
    return found


def smoke_ingest(needs: Needs) -> None:
    s3 = needs.s3()
    out = _run(
        "ingest", "--granules", "2", "--granule-mb", "0.2", "--tiles", "1", "--tile-mb", "0.5",
        "--small-items", "4", "--small-kb", "10", "--shards", "1", "--workers", "1",
        "--cpus", "2", "--db-url", needs.pg_url(), "--store", "s3", "--inbox", "s3",
        "--s3-endpoint", s3.endpoint_url, "--s3-bucket", f"smoke-{uuid.uuid4().hex[:8]}",
        "--s3-access-key", s3.access_key, "--s3-secret-key", s3.secret_key,
    )  # fmt: skip
    for kind, count in (("granule", 2), ("tile", 1), ("small", 4)):
        ((n, size, items_s, mb_s, p50, p95),) = _figures(
            rf"^{kind}\s+n=\s*(\d+) size=\s*{NUMBER} MB\s+items/s=\s*{NUMBER}\s+MB/s=\s*{NUMBER}"
            rf"\s+latency p50=\s*{NUMBER} s p95=\s*{NUMBER} s",
            out,
        )
        assert n == count and size > 0 and items_s > 0 and mb_s > 0
        assert 0 <= p50 <= p95 and p95 > 0
        ((raw, ratio),) = _figures(
            rf"^{kind}\s+raw S3 PUT MB/s=\s*{NUMBER} .* ingest/raw=\s*{NUMBER}", out
        )
        # MB/s is printed to 0.01: for small items that rounding alone moves the ratio.
        rounding = 0.005 / raw + 0.0005
        assert raw > 0 and ratio == pytest.approx(mb_s / raw, rel=0.02, abs=rounding)


def smoke_notify(needs: Needs) -> None:
    out = _run("notify", "--subscriptions", "3", "--products", "20", "--rate", "100")
    ((got, asked, subscriptions, _, rate, p50, p95),) = _figures(
        rf"^(\d+)/(\d+) notifications to (\d+) subscriptions in {NUMBER} s \((\d+)/s\); "
        r"publication -> receipt p50 (\d+) ms, p95 (\d+) ms",
        out,
    )
    assert (got, asked, subscriptions) == (20, 20, 3) and rate > 0 and p50 <= p95


def smoke_export(needs: Needs) -> None:
    out = _run("export", "--db-url", needs.pg_url(), "--load", "300")
    ((count, seconds, _, mb, rss),) = _figures(
        rf"^exported (\d+) products in {NUMBER} s \((\d+)/s\), {NUMBER} MB gzip'd; "
        r"peak RSS (\d+) MiB",
        out,
    )
    assert count == 300 and seconds >= 0 and mb > 0 and rss > 0


def smoke_download_memory(needs: Needs) -> None:
    out = _run("download_memory", "--gb", "0.01")
    lines = re.findall(
        r"^(?:whole|1 GiB range)\s+([\d.]+) GiB in .* \(\s*(\d+) MiB/s\); (.*)$", out, re.M
    )
    assert len(lines) == 2, out
    for gib, rate, growth in lines:
        assert float(gib) == pytest.approx(0.01, abs=0.005) and int(rate) > 0
        grown = dict(re.findall(r"(\w+) RSS \+([\d.]+) MiB", growth))
        assert set(grown) == {"gateway", "proxy", "replica"}, growth


def smoke_odata(needs: Needs) -> None:
    database = f"prip_smoke_odata_{uuid.uuid4().hex[:8]}"
    try:
        out = _run(
            "odata", "--pg", needs.pg_server(), "--database", database, "--products", "300",
            "--requests", "3", "--clients", "2", "--seconds", "0.5", "--replicas", "1",
            "--load", "python", "--ingress", "haproxy",  # what prip-ray up runs
        )  # fmt: skip
    finally:
        _drop_database(needs.pg_server(), database)
    assert "NO INDEX" not in out
    single = _figures(
        rf"^(?:name|ContentDate|productType|Intersects|all four).*?\s+(\d+)\s+{NUMBER}\s+{NUMBER}$",
        out,
    )
    assert len(single) == 5 and all(0 < p50 <= p99 for _, p50, p99 in single)
    stac = _figures(rf"^STAC \S.*?\s+(\d+)\s+{NUMBER}\s+{NUMBER}$", out)
    assert len(stac) == 4 and all(0 < p50 <= p99 for _, p50, p99 in stac)
    assert stac[0][0] > 0  # the first page of tiles is not empty
    concurrent = _figures(r"^  \S.*?\s+(\d+) requests/s  \((\d+) errors\)$", out)
    assert len(concurrent) == 6 and all(rate > 0 and errors == 0 for rate, errors in concurrent)


def smoke_odata_up(needs: Needs) -> None:
    """The same figures through a plain `prip-ray up` on the loaded database, and none of
    16 clients' searches fails while one of its replicas is SIGKILLed."""
    database = f"prip_smoke_odata_up_{uuid.uuid4().hex[:8]}"
    try:
        out = _run(
            "odata", "--pg", needs.pg_server(), "--database", database, "--products", "3000",
            "--requests", "3", "--clients", "16", "--seconds", "1", "--load", "python",
            "--ingress", "up", "--kill-replica", timeout=420,
        )  # fmt: skip
    finally:
        _drop_database(needs.pg_server(), database)
    assert re.search(r"^ingress: HAProxy http://127\.0\.0\.1:\d+/$", out, re.M), out
    single = _figures(
        rf"^(?:name|ContentDate|productType|Intersects|all four).*?\s+(\d+)\s+{NUMBER}\s+{NUMBER}$",
        out,
    )
    assert len(single) == 5 and all(0 < p50 <= p99 for _, p50, p99 in single)
    assert re.search(r"^16 concurrent clients .*\(load average [\d.]+ [\d.]+ [\d.]+\):$", out, re.M)
    concurrent = _figures(r"^  \S.*?\s+(\d+) requests/s  \((\d+) errors\)$", out)
    assert len(concurrent) == 7 and all(rate > 0 and errors == 0 for rate, errors in concurrent)
    assert re.search(r"^  five in turn, a replica SIGKILLed .* \(0 errors\)$", out, re.M), out
    assert re.search(r"^  \(replica pid \d+ got SIGKILL 0\.3 s into the phase\)$", out, re.M), out


def smoke_soak(needs: Needs) -> None:
    s3 = needs.s3()  # PostgreSQL and S3 together, as the real-size soak runs
    out = _run(
        "soak", "--minutes", "0.05", "--rate-factor", "1", "--clients", "1", "--shards", "1",
        "--qc-workers-max", "1", "--cpus", "2", "--settle", "0", "--poll-interval", "0.2",
        "--drain-timeout", "60", "--db-url", needs.pg_server(), "--store", "s3",
        "--s3-endpoint", s3.endpoint_url, "--s3-bucket", f"smoke-{uuid.uuid4().hex[:8]}",
        "--s3-access-key", s3.access_key, "--s3-secret-key", s3.secret_key,
    )  # fmt: skip
    ((dropped, published, rejected),) = _figures(
        r"^dropped (\d+), published (\d+), rejected (\d+);", out
    )
    assert dropped > 0 and published == dropped and rejected == 0
    ((items_s, mb_s, _),) = _figures(
        rf"^sustained \(published in window\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", out
    )
    assert items_s > 0 and mb_s > 0
    ((n, p50, p95, p99, _),) = _figures(
        rf"^all\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", out
    )
    assert n == published and p50 <= p95 <= p99
    assert re.search(r"^== all \d+ dropped products published exactly once: OK$", out, re.M)
    assert re.search(r"^not published 0 .* stored objects != 1 0$", out, re.M)  # listed in S3


def smoke_console(needs: Needs) -> None:
    database = f"prip_smoke_console_{uuid.uuid4().hex[:8]}"
    try:
        out = _run("console", "--tiny", "--olqc", "--pg", needs.pg_server(), "--database", database)
    finally:  # --tiny loads a database of its own, named after the one given
        _drop_database(needs.pg_server(), database + "_tiny")
    ((products, probes),) = _figures(r"^(\d+) products, (\d+) probes: load", out)
    assert products == 3000 and probes > 0
    ((without, listed),) = _figures(r"^olqc: (\d+) of (\d+) products without an OLQC", out)
    assert listed == 3000 and 0 < without < 30
    routes = re.findall(
        r"^(page|CSV|JSON)\s+(\d+) \((\d+)\)\s+(\d+) \((\d+)\)\s+(\d+)\s+(\d+)$", out, re.M
    )
    assert [r[0] for r in routes] == ["page", "CSV", "JSON"], out
    for _, *timings in routes:
        sign_in, sign_in_max, cold, cold_max, warm_p50, warm_max = map(int, timings)
        assert 0 < sign_in <= sign_in_max and 0 < cold <= cold_max and 0 < warm_p50 <= warm_max


def smoke_table_sizes(needs: Needs) -> None:
    out = _run("table_sizes", "--tiny", "--db-url", needs.pg_url())
    rows = {
        name: (float(per_day), float(per_row), float(gb), kept, held)
        for name, per_day, per_row, gb, kept, held in re.findall(
            r"^(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(grows|[\d.]+)\s+(-|[\d.]+)  \S", out, re.M
        )
    }
    every = {"products", "attributes", "trace_digests", "product_nodes", "deleted_products",
             "deleted_attributes", "outbox", "deliveries", "downloads", "request_counts",
             "health_probes", "quarantine", "olqc_outcomes", "kpi_hours"}  # fmt: skip
    assert set(rows) == every, out
    products = rows["products"][0]
    assert products == pytest.approx(650_000, rel=0.01)  # extrapolated to the seed's day
    assert rows["attributes"][0] > 10 * products  # ~15 attributes each, as ingestion writes
    assert rows["outbox"][0] == pytest.approx(2 * products, rel=0.01)  # created + deleted
    assert rows["health_probes"][0] == 2880  # one every 30 s
    for name, (per_day, per_row, gb, kept, held) in rows.items():
        assert per_day > 0 and per_row > 0, (name, out)
        day_gb = per_day * per_row / 1e9  # bytes per row are printed rounded
        assert gb == pytest.approx(day_gb, rel=0.05, abs=0.002), name
        if kept != "grows":
            assert float(held) == pytest.approx(day_gb * float(kept), rel=0.05, abs=0.02), name
    assert rows["olqc_outcomes"][3] == "30" and rows["products"][3] == "10"
    assert all(row[3] != "grows" for row in rows.values())  # every table is pruned
    ((steady, growth),) = _figures(
        rf"^steady state at the default retentions: {NUMBER} GB; unpruned tables grow by "
        rf"{NUMBER} GB a year$",
        out,
    )
    kept_total = sum(float(held) for *_, held in rows.values() if held != "-")
    assert steady == pytest.approx(kept_total, rel=0.01, abs=0.1) and growth == 0


@pytest.fixture
def needs(request: pytest.FixtureRequest) -> Iterator[Needs]:
    made: list[str] = []

    def server() -> str:
        url = make_url(request.getfixturevalue("pg_url"))
        return url.set(database=None).render_as_string(hide_password=False)

    def fresh_database() -> str:
        name = f"prip_smoke_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_admin(server()), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return make_url(server()).set(database=name).render_as_string(hide_password=False)

    yield Needs(server, fresh_database, lambda: request.getfixturevalue("s3_server"))
    for name in made:
        _drop_database(server(), name)


def _admin(server: str) -> str:
    return make_url(server).set(database="postgres").render_as_string(hide_password=False)


def _drop_database(server: str, name: str) -> None:
    with psycopg.connect(_admin(server), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def smoke_nodes(needs: Needs) -> None:
    database = f"prip_smoke_nodes_{uuid.uuid4().hex[:8]}"
    try:
        out = _run(
            "nodes", "--pg", needs.pg_server(), "--database", database, "--products", "300",
            "--requests", "20",
        )  # fmt: skip
    finally:
        _drop_database(needs.pg_server(), database)
    assert "300 products with Nodes, 30 members each" in out
    shown = _figures(rf"^(?:row read|Products|Nodes).*?\s+(\d+)\s+{NUMBER}\s+{NUMBER}$", out)
    assert len(shown) == 3 and all(0 < p50 <= p99 for _, p50, p99 in shown)


def smoke_footprint(_: Needs) -> None:
    out = _run("footprint", "--idle-s", "0", "--busy-s", "8", "--rate", "5", timeout=420)
    first = re.search(rf"first answered search: {NUMBER} s", out)
    assert first and 0 < float(first.group(1)) < 400, out
    assert re.search(r"started in .*Ray .*Serve .*HAProxy .*actors", out), out
    total = re.search(rf"^total +(\d+) +{NUMBER} +{NUMBER} +{NUMBER}$", out, re.MULTILINE)
    assert total and int(total.group(1)) > 5, out
    assert float(total.group(2)) >= float(total.group(3)) > 100, out  # RSS >= PSS
    assert float(total.group(4)) > 1, out  # CPU seconds: a start costs some
    assert re.search(r"^ray::ServeReplica:prip:odata +2 ", out, re.MULTILINE), out
    assert re.search(r"^ray::ServiceHost +1 ", out, re.MULTILINE), out  # the singletons' one
    busy = re.search(
        r"^busy 8 s: (\d+) products dropped .*, (\d+) published, (\d+) searches answered",
        out,
        re.MULTILINE,
    )
    assert busy and int(busy.group(1)) > 0 and int(busy.group(3)) > 0, out
    totals = re.findall(rf"^total +\d+ +{NUMBER} +{NUMBER} +{NUMBER}$", out, re.MULTILINE)
    assert len(totals) == 2, out  # idle, then the busy peak


PG, S3 = pytest.mark.postgres, pytest.mark.s3
BENCHMARKS = {
    "ingest": pytest.param(smoke_ingest, marks=[PG, S3]),
    "notify": smoke_notify,
    "export": pytest.param(smoke_export, marks=PG),
    "download_memory": smoke_download_memory,
    "odata": pytest.param(smoke_odata, marks=PG),
    "odata --ingress up": pytest.param(smoke_odata_up, marks=PG),
    "nodes": pytest.param(smoke_nodes, marks=PG),
    "soak": pytest.param(smoke_soak, marks=[PG, S3]),
    "console": pytest.param(smoke_console, marks=PG),
    "table_sizes": pytest.param(smoke_table_sizes, marks=PG),
    "footprint": smoke_footprint,
}


def test_every_benchmark_has_a_smoke_run() -> None:
    runnable = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if "__main__" in p.read_text()}
    assert runnable == {name.split()[0] for name in BENCHMARKS}


@pytest.mark.parametrize("smoke", BENCHMARKS.values(), ids=BENCHMARKS.keys())
def test_benchmark_runs_tiny_and_prints_its_figures(
    smoke: Callable[[Needs], None], needs: Needs
) -> None:
    smoke(needs)
