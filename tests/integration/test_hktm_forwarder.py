"""The HKTM forwarder against real databases, the real local store and S3, and a real SFTP
server on loopback: every HKTM product reaches FOS once, whole, in order, through FOS being
away, a connection cut mid-transfer, and a crash after the rename."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prip_ray.bootstrap import Components
from prip_ray.config import FosSettings, S3Settings, Settings, load_settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.errors import ConfigurationError
from prip_ray.services.hktm import HktmForwarder
from prip_ray.storage.sftp import SftpSession
from tests.fixtures.components import BuildComponents
from tests.samples import GRANULE, drop, sample
from tests.sftp_server import PASSWORD, FosServer, fos_server
from tests.waiting import wait_until

START = datetime(2025, 8, 1, 7, 0, tzinfo=UTC)


def hktm_name(index: int) -> str:
    start = START + timedelta(minutes=5 * index)
    end = start + timedelta(minutes=5)
    return f"S2B_OPER_PRD_HKTM___{start:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}_{index:04d}"


def publish_hktm(
    components: Components, tmp_path: Path, count: int, size: int = 300_000
) -> list[str]:
    names = []
    for index in range(count):
        source = tmp_path / "hktm-src" / hktm_name(index)
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(os.urandom(size))
        outcome = components.ingest.ingest(drop(source, components.settings.inbox))
        assert outcome.status == "published", outcome.reason
        names.append(source.name)
    return names


@pytest.fixture
def fos(tmp_path: Path) -> Iterator[FosServer]:
    with fos_server(tmp_path / "fos") as server:
        yield server


def forwarding(
    build: BuildComponents,
    components: Components,
    fos: FosServer,
    tmp_path: Path,
    **fos_settings: Any,
) -> Components:
    options: dict[str, Any] = {
        "sftp_url": fos.url(),
        "password": PASSWORD,
        "known_hosts": fos.write_known_hosts(tmp_path / "known_hosts"),
        "retry_base_s": 0.05,
        "retry_max_s": 0.2,
    }
    options.update(fos_settings)
    settings: Settings = components.settings.model_copy(update={"fos": FosSettings(**options)})
    return build(settings)


def test_each_hktm_product_reaches_fos_once_and_whole(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    names = publish_hktm(components, tmp_path, 3)
    drop(sample(GRANULE), components.settings.inbox)  # not telemetry: not for FOS
    components.ingest.ingest(components.settings.inbox / sample(GRANULE).name)
    forwarder = forwarding(built_components, components, fos, tmp_path).hktm_forwarder()
    assert forwarder.run_once().delivered == 3
    assert forwarder.run_once().delivered == 0
    files = fos.files()
    assert sorted(files) == [f"hktm/{n}" for n in names]
    for name in names:
        product = components.products.by_name(name)
        assert product is not None
        assert files[f"hktm/{name}"] == b"".join(components.store.read(product.object_key))
    assert fos.renames == [f"/hktm/{n}" for n in names]  # in publication order


def test_layout_and_key_login(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    names = publish_hktm(components, tmp_path, 2)
    forwarder = forwarding(
        built_components,
        components,
        fos,
        tmp_path,
        password=None,
        key_file=fos.write_client_key(tmp_path / "id_fos"),
        layout="{mission}/{year}/{doy}/{name}",
    ).hktm_forwarder()
    assert forwarder.run_once().delivered == 2
    assert sorted(fos.files()) == [f"hktm/S2B/2025/213/{n}" for n in names]


def test_fos_away_then_back_delivers_in_order_once(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    forwarder = forwarding(built_components, components, fos, tmp_path).hktm_forwarder()
    fos.stop()
    names = publish_hktm(components, tmp_path, 4)
    assert forwarder.run_once().failed == 1
    queue = DeliveryQueue(components.engine, "hktm")
    assert queue.backlog(datetime.now(UTC))[0] == 4
    fos.start()
    wait_until(lambda: forwarder.run_once() is not None and len(fos.files()) == 4, 20, "FOS")
    assert fos.renames == [f"/hktm/{n}" for n in names]
    assert queue.counts() == {"done": 4}


def test_a_cut_mid_transfer_leaves_no_partial_file_and_is_sent_again(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    names = publish_hktm(components, tmp_path, 3, size=2_000_000)
    fos.cut_next = 1
    forwarder = forwarding(built_components, components, fos, tmp_path).hktm_forwarder()
    first = forwarder.run_once()
    assert first.failed == 1 and fos.cuts == 1
    assert not any(path.startswith("hktm/S2B") for path in fos.files())  # only a .part
    wait_until(lambda: forwarder.run_once() is not None and len(fos.renames) == 3, 20, "FOS")
    assert sorted(p for p in fos.files() if not p.startswith("hktm/.")) == [
        f"hktm/{n}" for n in names
    ]
    assert fos.renames == [f"/hktm/{n}" for n in names]


def test_a_crash_after_the_rename_is_detected_not_sent_twice(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    names = publish_hktm(components, tmp_path, 2)
    forwarding_components = forwarding(built_components, components, fos, tmp_path)

    original = SftpSession.deliver

    async def dies_after_delivery(self: SftpSession, *args: Any) -> tuple[str, bool]:
        await original(self, *args)
        raise KeyboardInterrupt  # the process dies before recording the delivery

    crashing = forwarding_components.hktm_forwarder()
    SftpSession.deliver = dies_after_delivery  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            crashing.run_once()
    finally:
        SftpSession.deliver = original  # type: ignore[method-assign]
    assert len(fos.renames) == 1
    restarted = forwarding_components.hktm_forwarder().run_once()
    assert (restarted.already, restarted.delivered) == (1, 1)
    assert fos.renames == [f"/hktm/{n}" for n in names]


def test_an_unknown_host_key_is_refused(
    components: Components, fos: FosServer, tmp_path: Path, built_components: BuildComponents
) -> None:
    publish_hktm(components, tmp_path, 1)
    import asyncssh

    stranger = asyncssh.generate_private_key("ssh-ed25519")
    known = fos.write_known_hosts(tmp_path / "other_known_hosts", stranger)
    forwarder = forwarding(
        built_components, components, fos, tmp_path, known_hosts=known
    ).hktm_forwarder()
    assert forwarder.run_once().failed == 1
    assert fos.files() == {}


def test_a_wrong_url_is_a_configuration_error(
    components: Components, built_components: BuildComponents
) -> None:
    settings = components.settings.model_copy(
        update={"fos": FosSettings(sftp_url="ftp://fos.example/hktm")}
    )
    with pytest.raises(ConfigurationError, match="sftp://"):
        built_components(settings).hktm_forwarder()


@pytest.mark.s3
def test_hktm_from_s3_to_fos(
    tmp_path: Path, s3_settings: S3Settings, fos: FosServer, built_components: BuildComponents
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        store={"kind": "s3", "s3": s3_settings.model_copy(update={"prefix": "hktm/"}).model_dump()},
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    names = publish_hktm(components, tmp_path, 2)
    forwarder: HktmForwarder = forwarding(
        built_components, components, fos, tmp_path
    ).hktm_forwarder()
    assert forwarder.run_once().delivered == 2
    assert sorted(fos.files()) == [f"hktm/{n}" for n in names]
