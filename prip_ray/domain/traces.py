"""Traces as the Traceability Service (CDSE trace API v1.1) takes them, and their checks.

A trace is ``{"product": {...}, "event", "hash_algorithm", "signature": {...}}``; the signed
message is the canonical JSON (sorted keys, no spaces) of the product fields plus the event
and algorithm, so that a verifier rebuilds exactly the bytes that were signed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prip_ray.domain.hashing import ProductHashes

EVENTS = {"created": "CREATE", "deleted": "DELETE"}  # outbox event -> trace event


def trace_product(name: str, hashes: ProductHashes) -> dict[str, Any]:
    return {
        "name": name,
        "size": hashes.size,
        "hash": hashes.hash,
        "contents": list(hashes.contents),
        "inputs": [],
    }


def signed_message(product: dict[str, Any], event: str, hash_algorithm: str) -> str:
    body = {"product": product, "event": event, "hash_algorithm": hash_algorithm}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def build_trace(
    product: dict[str, Any],
    event: str,
    hash_algorithm: str,
    sign: Callable[[str], dict[str, str]],
) -> dict[str, Any]:
    if event not in EVENTS.values():
        raise ValueError(f"not a trace event: {event!r}")
    return {
        "product": product,
        "event": event,
        "hash_algorithm": hash_algorithm,
        "signature": sign(signed_message(product, event, hash_algorithm)),
    }


def message_matches(trace: dict[str, Any]) -> bool:
    """Whether the signed message says what the trace says (else the signature certifies
    something else)."""
    expected = signed_message(trace["product"], trace["event"], trace["hash_algorithm"])
    return bool(trace.get("signature", {}).get("message") == expected)


def differences(trace: dict[str, Any], hashes: ProductHashes) -> list[str]:
    """How the bytes now hashed differ from the traced ones (empty: they are the same)."""
    product = trace["product"]
    found = []
    if trace["hash_algorithm"] != hashes.algorithm:
        return [f"trace hashed with {trace['hash_algorithm']}, recomputed with {hashes.algorithm}"]
    if product["size"] != hashes.size:
        found.append(f"size {hashes.size} != traced {product['size']}")
    if product["hash"] != hashes.hash:
        found.append(f"hash {hashes.hash} != traced {product['hash']}")
    traced = {c["path"]: c["hash"] for c in product.get("contents", [])}
    now = {c["path"]: c["hash"] for c in hashes.contents}
    for path in sorted(traced.keys() | now.keys()):
        if traced.get(path) != now.get(path):
            found.append(f"{path}: {now.get(path, 'missing')} != traced {traced.get(path, 'none')}")
    return found
