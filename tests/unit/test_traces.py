"""Trace hashing, building and signing, without a service: one-pass hashes agree with the
hashlib/blake3 of the bytes, a signature verifies, and any change to the trace breaks it."""

from __future__ import annotations

import copy
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from prip_ray.domain.hashing import hash_product
from prip_ray.domain.traces import build_trace, differences, message_matches, trace_product
from prip_ray.errors import ConfigurationError
from prip_ray.security.signing import TraceSigner, verify_signature
from tests.pki import write_key_and_cert
from tests.samples import SAMPLES_DIR


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    return iter([data[i : i + size] for i in range(0, len(data), size)])


@pytest.mark.parametrize("sample", sorted(SAMPLES_DIR.glob("S2B_*.tar")), ids=lambda p: p.name[:22])
def test_whole_and_member_hashes_in_one_pass(sample: Path) -> None:
    data = sample.read_bytes()
    hashes = hash_product(chunks(data), "SHA256")
    assert hashes.hash == hashlib.sha256(data).hexdigest() and hashes.size == len(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        expected = {
            m.name: hashlib.sha256(archive.extractfile(m).read()).hexdigest()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }
    assert {c["path"]: c["hash"] for c in hashes.contents} == expected


def test_a_plain_file_has_no_contents_and_blake3_is_the_default() -> None:
    hashes = hash_product(chunks(b"HKTM" * 10_000))
    assert hashes.algorithm == "BLAKE3" and hashes.contents == []
    assert hashes.hash == blake3.blake3(b"HKTM" * 10_000).hexdigest()


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_signed_trace_verifies_and_tampering_breaks_it(tmp_path: Path, kind: str) -> None:
    signer = TraceSigner.from_files(*write_key_and_cert(tmp_path, kind))
    hashes = hash_product(chunks(b"product bytes"))
    trace = build_trace(trace_product("P1", hashes), "CREATE", "BLAKE3", signer.sign)
    assert verify_signature(trace["signature"]) and message_matches(trace)
    assert differences(trace, hashes) == []
    changed = copy.deepcopy(trace)
    changed["product"]["size"] = 1
    assert not message_matches(changed)
    forged = copy.deepcopy(trace)
    forged["signature"]["message"] = forged["signature"]["message"].replace("P1", "P2")
    assert not verify_signature(forged["signature"])
    other = hash_product(chunks(b"other bytes"))
    assert any("hash" in d for d in differences(trace, other))


def test_a_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    key, _ = write_key_and_cert(tmp_path / "a")
    _, cert = write_key_and_cert(tmp_path / "b")
    with pytest.raises(ConfigurationError, match="not the one of the key"):
        TraceSigner.from_files(key, cert)
