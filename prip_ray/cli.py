"""The ``prip-ray`` command: start the PRIP, manage users, ingest products by hand."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from prip_ray.bootstrap import Components
from prip_ray.config import Settings, load_settings, settings_help
from prip_ray.db.users import UserRepository
from prip_ray.domain.passwords import hash_password
from prip_ray.domain.retention import parse_duration
from prip_ray.domain.users import QuotaOverrides, check_role, check_user_name
from prip_ray.errors import PripError
from prip_ray.ingress import choose_ingress, taken_ports
from prip_ray.local_ray import keep_local_ray_on_loopback
from prip_ray.serve.kpi import parse_when
from prip_ray.start_times import StartTimes

app = typer.Typer(help="prip-ray: a Copernicus Production Interface Delivery Point on Ray.")
users_app = typer.Typer(help="Manage the users allowed to search and download.")
app.add_typer(users_app, name="user")
catalogue_app = typer.Typer(help="The full catalogue since the start of operations.")
app.add_typer(catalogue_app, name="catalogue")
trace_app = typer.Typer(help="Traces of the products at the Traceability Service.")
app.add_typer(trace_app, name="trace")
product_app = typer.Typer(help="Published products: take one back.")
app.add_typer(product_app, name="product")
quarantine_app = typer.Typer(help="Products the QC refused: list, retry, purge.")
app.add_typer(quarantine_app, name="quarantine")
console = Console()

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="instance folder (inbox, DB, store) [./prip-data]")
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="YAML or TOML file with settings", exists=True)
]


def _settings(data_dir: Path | None, config: Path | None, **extra: Any) -> Settings:
    try:
        return load_settings(config, data_dir=data_dir, **extra)
    except PripError as e:
        console.print(f"[red]configuration error:[/red] {e}")
        raise typer.Exit(2) from e


def _components(settings: Settings) -> Components:
    components = Components(settings)
    components.migrate()
    return components


@app.command(epilog=settings_help())
def up(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    port: Annotated[int | None, typer.Option(help="HTTP port of the OData API [8000]")] = None,
) -> None:
    """Start the PRIP: local Ray (or PRIP_RAY__ADDRESS), ingestion shards and the OData API."""
    settings = _settings(data_dir, config)
    if port is not None:
        settings.api.port = port
    taken = taken_ports(settings)
    if taken:
        ports = ", ".join(str(p) for p in taken)
        console.print(
            f"[red]port {ports} on {settings.api.host} is in use (another PRIP?):[/red] "
            "choose others with --port (the download gateway takes the next one)"
        )
        raise typer.Exit(2)
    times = StartTimes()
    with times.step("migrations"):
        _components(settings).close()
    keep_local_ray_on_loopback(settings)  # before Ray is imported: it reads this then
    ingress = choose_ingress(settings)  # the same
    if ingress.kind == "serve" and settings.api.ingress == "haproxy":
        console.print(f"[yellow]{ingress.why}: serving through Serve's proxy[/yellow]")
    from prip_ray.runtime import run_until_signal  # imports Ray: only when we start it

    run_until_signal(settings, console, ingress, times)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="product files or PDI folders", exists=True)],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Quality-check, catalogue and store products now, in this process (sources are kept)."""
    settings = _settings(data_dir, config)
    components = _components(settings)
    counts: dict[str, int] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(paths))
        for path in paths:
            outcome = components.ingest.ingest(path, remove=False)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            detail = outcome.product_id or outcome.reason or ""
            console.print(f"{outcome.status:9} {outcome.name}  {detail}")
            progress.advance(task)
    components.close()
    console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if counts.get("rejected") or counts.get("retry"):
        raise typer.Exit(1)


@app.command()
def roll(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list what would go, change nothing")
    ] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Run one round of the rolling archive now (evict what is due or over the watermark),
    and of the rolling catalogue (rows, DeletedProducts, quarantine, events past retention)."""
    components = _components(_settings(data_dir, config))
    try:
        report = components.roller().run_once(dry_run=dry_run)
    finally:
        components.close()
    verb = "would evict" if dry_run else "evicted"
    for name in report.evicted:
        console.print(f"{verb:11} {name}  ({report.reasons[name]})")
    for name in report.busy:
        console.print(f"{'busy':11} {name}  (being downloaded: next round)")
    for name in report.held:
        console.print(f"{'held':11} {name}  (FOS does not have it yet)")
    console.print(f"{len(report.evicted)} {verb}, {report.freed_bytes} bytes freed")
    if not dry_run:
        console.print(
            f"{report.left_catalogue} left Products, {report.purged_deleted} DeletedProducts "
            f"purged, {report.quarantine_purged} quarantine entries purged, "
            f"{report.events_pruned} events pruned"
        )


@product_app.command("withdraw")
def product_withdraw(
    name: Annotated[str, typer.Argument(help="the product's Name, as published")],
    cause: Annotated[str, typer.Option("--cause", help="why: the DeletionCause subscribers see")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Withdraw a product: offline at once, bytes deleted, announced as deleted (subscribers,
    Traceability), listed in DeletedProducts. Running it again changes nothing."""
    if not cause.strip():
        console.print("[red]--cause must say why[/red]")
        raise typer.Exit(2)
    components = _components(_settings(data_dir, config))
    try:
        report = components.withdrawer().withdraw_name(name, cause)
    except PripError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from e
    finally:
        components.close()
    done = "withdrawn" if report.announced else "already offline, now"
    console.print(f"{report.name} {done}: {report.cause} ({report.freed_bytes} bytes freed)")


@quarantine_app.command("list")
def quarantine_list(
    since: Annotated[str | None, typer.Option(help="last seen since this ISO date")] = None,
    reason_contains: Annotated[
        str | None, typer.Option("--reason-contains", help="only reasons with this text")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """The quarantined products, newest first, with why and where their bytes are."""
    when = _iso_date(since) if since else None
    components = _components(_settings(data_dir, config))
    try:
        entries = components.quarantine().entries(when, reason_contains)
    finally:
        components.close()
    table = Table("Name", "Reason", "First seen", "Last seen", "Times", "Bytes", "Location")
    for e in entries:
        first, last = e.first_seen.isoformat(), e.last_seen.isoformat()
        table.add_row(
            e.name, f"{e.code}: {e.reason}", first, last, str(e.times), str(e.size), e.location
        )
    console.print(table)
    console.print(f"{len(entries)} in quarantine")


@quarantine_app.command("retry")
def quarantine_retry(
    names: Annotated[list[str], typer.Argument(help="quarantined product names")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Move products back to the inbox: they go through QC again."""
    components = _components(_settings(data_dir, config))
    failed = 0
    try:
        service = components.quarantine()
        for name in names:
            try:
                console.print(f"{name} -> {service.retry(name)}")
            except PripError as e:
                console.print(f"[red]{name}: {e}[/red]")
                failed += 1
    finally:
        components.close()
    if failed:
        raise typer.Exit(1)


@quarantine_app.command("purge")
def quarantine_purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="last seen longer ago than this (s, m, h, d)")
    ] = "0s",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Delete quarantined products (bytes and entries); all of them by default."""
    try:
        age = parse_duration(older_than)
    except ValueError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from e
    if age is None:  # "never"
        console.print("0 purged")
        return
    components = _components(_settings(data_dir, config))
    try:
        purged = components.quarantine().purge(datetime.now(UTC) - age)
    finally:
        components.close()
    console.print(f"{purged} purged")


def _iso_date(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        console.print(f"[red]not an ISO date: {text}[/red]")
        raise typer.Exit(2) from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@catalogue_app.command("export")
def catalogue_export(
    since: Annotated[
        str | None, typer.Option(help="incremental: products changed since this ISO date")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Export the catalogue (every product ever published) as JSON Lines to the store."""
    try:
        start = datetime.fromisoformat(since).astimezone(UTC) if since else None
    except ValueError as e:
        raise typer.BadParameter(f"--since {since!r} is not an ISO date") from e
    components = _components(_settings(data_dir, config))
    try:
        record = components.exporter().export(since=start)
    finally:
        components.close()
    console.print(
        f"{record.kind} export of {record.count} products: {record.key} ({record.size} bytes)"
    )


@app.command()
def kpi(
    since: Annotated[str | None, typer.Option(help="ISO date [a day before --until]")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date [now]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Timeliness, completeness and availability of a window, as the seed measures them."""
    try:
        end = parse_when(until, datetime.now(UTC), "--until")
        start = parse_when(since, end - timedelta(days=1), "--since")
    except PripError as e:
        raise typer.BadParameter(str(e)) from e
    components = _components(_settings(data_dir, config))
    try:
        report = components.kpi().report(start, end)
    finally:
        components.close()
    if as_json:
        console.print_json(json.dumps(report))
        return
    console.print(f"KPIs from {report['since']} to {report['until']}")
    table = Table("product type", "products", "p50 s", "p95 s", "max s", title="Timeliness")
    for row in report["timeliness"]:
        table.add_row(row["product_type"], str(row["count"]), f"{row['p50_s']:.1f}",
                      f"{row['p95_s']:.1f}", f"{row['max_s']:.1f}")  # fmt: skip
    console.print(table)
    table = Table("product type", "published", "rejected", "ratio", title="Completeness")
    for row in report["completeness"]:
        table.add_row(row["product_type"], str(row["published"]), str(row["rejected"]),
                      f"{row['ratio']:.2%}")  # fmt: skip
    console.print(table)
    strips = report["datastrips"]
    console.print(
        f"L0 datastrips: {strips['datastrips']} with {strips['granules']} granules; "
        f"{strips['all_detectors']} with all 12 detectors; "
        f"{len(strips['without_granules'])} without granules; "
        f"{strips['orphan_granules']} granules without their datastrip"
    )
    probes = report["availability"]
    ratio = "no probes" if probes["ratio"] is None else f"{probes['ratio']:.3%}"
    console.print(
        f"Availability: {ratio} of {probes['probes']} probes; "
        f"longest outage {probes['longest_outage_s']:.0f} s"
    )


@trace_app.command("verify")
def trace_verify(
    name: Annotated[str, typer.Argument(help="product name, as published")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Recompute a stored product's hashes and check them and the signature against its
    signed CREATE trace. Exit status 1 when anything differs."""
    components = _components(_settings(data_dir, config))
    try:
        result = components.tracer().verify(name)
    except PripError as e:
        console.print(f"[red]cannot verify:[/red] {e}")
        raise typer.Exit(2) from e
    finally:
        components.close()
    if result.ok:
        console.print(
            f"[green]OK[/green] {name}: bytes and signature match the trace "
            f"(from the {result.source})"
        )
        return
    console.print(f"[red]MISMATCH[/red] {name} (trace from the {result.source}):")
    for problem in result.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


@users_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="download, catalogue, subscriptions or admin")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Create a user (the password is asked for, or read from standard input)."""
    try:
        check_user_name(name)
        check_role(role)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    password = _read_password(password_stdin)
    settings = _settings(data_dir, config)
    components = _components(settings)
    try:
        components.users.add(name, hash_password(password, n=settings.auth.scrypt_n), role)
    except PripError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from e
    finally:
        components.close()
    console.print(f"user {name} added with role {role}")


@users_app.command("list")
def user_list(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """List users, their roles and whether they are disabled."""
    components = _components(_settings(data_dir, config))
    table = Table("name", "role", "disabled", "created", "quota overrides")
    for user in components.users.all():
        overrides = {k: v for k, v in vars(user.quotas).items() if v is not None}
        table.add_row(
            user.name,
            user.role,
            str(user.disabled),
            user.created_at.isoformat(),
            str(overrides or ""),
        )
    components.close()
    console.print(table)


@users_app.command("disable")
def user_disable(name: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Refuse every request of this user from now on (issued tokens included)."""
    _change_user(data_dir, config, lambda users: users.set_disabled(name, True))
    console.print(f"user {name} disabled")


@users_app.command("enable")
def user_enable(name: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Let a disabled user in again."""
    _change_user(data_dir, config, lambda users: users.set_disabled(name, False))
    console.print(f"user {name} enabled")


@users_app.command("set-role")
def user_set_role(
    name: str,
    role: Annotated[str, typer.Argument(help="download, catalogue, subscriptions or admin")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Give a user another role (takes effect on their next request)."""
    try:
        check_role(role)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    _change_user(data_dir, config, lambda users: users.set_role(name, role))
    console.print(f"user {name} now has role {role}")


@users_app.command("set-quota")
def user_set_quota(
    name: str,
    parallel: Annotated[int | None, typer.Option(help="downloads at once")] = None,
    volume_gb: Annotated[float | None, typer.Option(help="GB per window")] = None,
    window_days: Annotated[int | None, typer.Option(help="days of the volume window")] = None,
    requests_per_minute: Annotated[int | None, typer.Option()] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Override a user's quotas; options left out fall back to the configured defaults."""
    quotas = QuotaOverrides(
        max_parallel=parallel,
        volume_bytes=int(volume_gb * 1000**3) if volume_gb is not None else None,
        window_days=window_days,
        requests_per_minute=requests_per_minute,
    )
    _change_user(data_dir, config, lambda users: users.set_quotas(name, quotas))
    console.print(f"quotas of {name}: {quotas}")


def _change_user(
    data_dir: Path | None, config: Path | None, change: Callable[[UserRepository], None]
) -> None:
    components = _components(_settings(data_dir, config))
    try:
        change(components.users)
    except PripError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from e
    finally:
        components.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            raise typer.BadParameter("the two passwords differ")
    if not password:
        raise typer.BadParameter("the password is empty")
    return password


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app()
