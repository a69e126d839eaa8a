"""Re-ingestion from S3 with keys that name places outside the scratch folder (issue #15):
the product is refused with a reason, and nothing is written outside its scratch folder.

SeaweedFS refuses such keys on upload, AWS S3 and others store them as given: the source
here is moto's S3 server on loopback, which keeps keys as written, like AWS does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings
from prip_ray.services.reingest import Reingester
from prip_ray.storage.s3 import S3ObjectStore
from prip_ray.storage.sources import S3Source
from tests.samples import GRANULE, extract_sample


@pytest.fixture
def literal_s3() -> Iterator[S3Settings]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Settings(
        endpoint_url=f"http://{host}:{port}",
        bucket="products",
        access_key_id="test",
        secret_access_key=SecretStr("test"),
    )
    server.stop()


@pytest.mark.parametrize(
    "hostile",
    ["../../escaped.txt", "IMG_DATA/../../../escaped.txt", "./escaped.txt", "/escaped.txt"],
)
def test_s3_keys_leaving_the_product_are_refused(
    components: Components, literal_s3: S3Settings, tmp_path: Path, hostile: str
) -> None:
    store = S3ObjectStore(literal_s3)
    store.ensure_bucket()
    folder = extract_sample(GRANULE, tmp_path / "pdi")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.put_file(f"{GRANULE}/{path.relative_to(folder).as_posix()}", path)
    payload = tmp_path / "payload"
    payload.write_bytes(b"not yours")
    store.put_file(f"{GRANULE}/{hostile}", payload)
    if f"{GRANULE}/{hostile}" not in set(store.keys(f"{GRANULE}/")):
        pytest.fail(f"the S3 server changed the key {hostile!r}: the test proves nothing")
    scratch = tmp_path / "work" / "reingest"
    reingester = Reingester(S3Source(store), components.ingest, components.products, scratch)
    outcome = reingester.reingest(GRANULE)
    assert outcome.status == "rejected", outcome
    assert "outside" in (outcome.reason or "")
    assert not list(tmp_path.rglob("escaped.txt"))
    assert components.products.by_name(f"{GRANULE}.tar") is None
