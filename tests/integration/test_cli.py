"""The prip-ray command in-process: users and hand ingestion on the embedded default."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from prip_ray.cli import app
from prip_ray.config import load_settings
from prip_ray.domain.passwords import verify_password
from tests.fixtures.components import BuildComponents
from tests.samples import SAMPLES_DIR

runner = CliRunner()


def test_user_add_stores_a_hash_not_the_password(
    tmp_path: Path, built_components: BuildComponents
) -> None:
    data = str(tmp_path)
    added = runner.invoke(
        app,
        ["user", "add", "lta", "--role", "download", "--password-stdin", "--data-dir", data],
        input="s3cret\n",
        env={"PRIP_AUTH__SCRYPT_LOG2_N": "17"},  # the operators' cost, not the tests' one
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", "--data-dir", data])
    assert "lta" in listed.output and "download" in listed.output
    components = built_components(load_settings(data_dir=tmp_path))
    user = components.users.get("lta")
    assert user is not None and user.role == "download"
    assert "s3cret" not in user.password_hash
    assert verify_password("s3cret", user.password_hash)
    assert int(user.password_hash.split("$")[1]) >= 2**17  # scrypt cost: 128 MiB per guess
    assert b"s3cret" not in (tmp_path / "prip.db").read_bytes()


def test_user_add_refuses_bad_input(tmp_path: Path) -> None:
    data = str(tmp_path)
    wrong_role = runner.invoke(
        app,
        ["user", "add", "x", "--role", "root", "--password-stdin", "--data-dir", data],
        input="pw\n",
    )
    assert wrong_role.exit_code != 0
    empty = runner.invoke(
        app,
        ["user", "add", "x", "--role", "download", "--password-stdin", "--data-dir", data],
        input="\n",
    )
    assert empty.exit_code != 0
    twice = ["user", "add", "y", "--role", "download", "--password-stdin", "--data-dir", data]
    assert runner.invoke(app, twice, input="pw\n").exit_code == 0
    again = runner.invoke(app, twice, input="pw\n")
    assert again.exit_code == 1 and "exists" in again.output


def test_user_disable_enable_set_role_and_set_quota(
    tmp_path: Path, built_components: BuildComponents
) -> None:
    data = ["--data-dir", str(tmp_path)]
    add = ["user", "add", "ops", "--role", "download", "--password-stdin", *data]
    assert runner.invoke(app, add, input="pw\n").exit_code == 0
    assert runner.invoke(app, ["user", "disable", "ops", *data]).exit_code == 0
    assert runner.invoke(app, ["user", "set-role", "ops", "admin", *data]).exit_code == 0
    quota = ["user", "set-quota", "ops", "--parallel", "8", "--volume-gb", "1.5", *data]
    assert runner.invoke(app, quota).exit_code == 0
    components = built_components(load_settings(data_dir=tmp_path))
    user = components.users.get("ops")
    assert user is not None and user.disabled and user.role == "admin"
    assert (user.quotas.max_parallel, user.quotas.volume_bytes) == (8, 1_500_000_000)
    assert user.quotas.window_days is None  # left out: the default applies
    assert runner.invoke(app, ["user", "enable", "ops", *data]).exit_code == 0
    assert not components.users.get("ops").disabled  # type: ignore[union-attr]
    listed = runner.invoke(app, ["user", "list", *data])
    assert "max_parallel" in listed.output
    missing = runner.invoke(app, ["user", "disable", "nobody", *data])
    assert missing.exit_code == 1 and "no user" in missing.output
    bad_role = runner.invoke(app, ["user", "set-role", "ops", "root", *data])
    assert bad_role.exit_code != 0


def test_ingest_paths_keeps_the_sources(tmp_path: Path) -> None:
    samples = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
    result = runner.invoke(app, ["ingest", *map(str, samples), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 published" in result.output
    assert all(s.exists() for s in samples)
    again = runner.invoke(app, ["ingest", str(samples[0]), "--data-dir", str(tmp_path)])
    assert again.exit_code == 1 and "1 rejected" in again.output
    assert samples[0].exists()  # a refused hand-ingested source is copied to quarantine, not moved
    assert (tmp_path / "quarantine" / samples[0].name).exists()


def test_roll_dry_run_then_for_real(tmp_path: Path) -> None:
    samples = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["ingest", *map(str, samples), *data]).exit_code == 0
    nothing_due = runner.invoke(app, ["roll", "--dry-run", *data])
    assert nothing_due.exit_code == 0 and "0 would evict" in nothing_due.output
    settings = ["--config", str(_config(tmp_path, "roller: {watermark_gb: 0.000001}"))]
    dry = runner.invoke(app, ["roll", "--dry-run", *data, *settings])
    assert dry.exit_code == 0 and "would evict" in dry.output and "watermark" in dry.output
    real = runner.invoke(app, ["roll", *data, *settings])
    assert real.exit_code == 0 and "evicted" in real.output
    assert "0 left Products" in real.output  # offline for 3 days first, and no export yet


def _config(folder: Path, text: str) -> Path:
    path = folder / "prip.yaml"
    path.write_text(text + "\n")
    return path
