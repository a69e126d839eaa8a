"""HAProxy's configuration for `prip-ray up`, and when `up` falls back to Serve's proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from prip_ray.config import load_settings
from prip_ray.ingress import choose_ingress
from prip_ray.local_ray import DIRECT_INGRESS
from prip_ray.serve.haproxy import HaproxyIngress, render_config

REPLICAS = [("127.0.0.1", 30001), ("127.0.0.1", 30000)]


def test_the_api_address_only_and_every_replica() -> None:
    config = render_config("127.0.0.1", 8000, REPLICAS)
    binds = [line.split()[1] for line in config.splitlines() if line.strip().startswith("bind")]
    assert binds == ["127.0.0.1:8000"]  # no stats, admin or metrics port
    assert "stats" not in config
    servers = [line.split()[2] for line in config.splitlines() if line.strip().startswith("server")]
    assert servers == ["127.0.0.1:30000", "127.0.0.1:30001"]


def test_only_gets_and_heads_are_retried_once_sent() -> None:
    config = render_config("127.0.0.1", 8000, REPLICAS)
    assert "retry-on conn-failure empty-response junk-response 502 504" in config
    assert "option redispatch" in config
    assert "http-request disable-l7-retry unless METH_GET || METH_HEAD" in config


def test_what_a_client_says_it_forwarded_is_replaced_unless_it_is_a_trusted_proxy() -> None:
    alone = render_config("127.0.0.1", 8000, REPLICAS)
    assert "http-request set-header X-Forwarded-For %[src]\n" in alone
    behind = render_config("0.0.0.0", 8000, REPLICAS, trusted=["10.0.0.0/8"])
    assert "acl from_trusted_proxy src 10.0.0.0/8" in behind
    assert "%[src] unless from_trusted_proxy forwarded" in behind


def test_the_bundled_haproxy_accepts_the_configuration() -> None:
    ingress = HaproxyIngress("127.0.0.1", 8000)
    try:
        ingress.check()  # raises with HAProxy's own message otherwise
    finally:
        ingress.stop()


def test_up_serves_through_haproxy_by_default(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    environ: dict[str, str] = {}
    assert choose_ingress(settings, environ).kind == "haproxy"
    assert environ == DIRECT_INGRESS  # replicas serve HTTP on ports of their own
    assert settings.api.trusted_proxies == ["127.0.0.1"]  # HAProxy's X-Forwarded-For


def test_without_a_usable_haproxy_up_says_why_and_uses_serves_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_SERVE_HAPROXY_BINARY_PATH", str(tmp_path / "no-haproxy"))
    environ: dict[str, str] = {}
    choice = choose_ingress(load_settings(data_dir=tmp_path), environ)
    assert choice.kind == "serve" and "HAProxy cannot start" in choice.why
    assert environ == {}


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"api": {"ingress": "serve"}}, "api.ingress = serve"),
        ({"ray": {"address": "ray://head:10001"}}, "a Ray `up` starts itself"),
    ],
)
def test_serves_proxy_when_chosen_or_on_a_cluster(
    tmp_path: Path, overrides: dict[str, dict[str, str]], why: str
) -> None:
    environ: dict[str, str] = {}
    choice = choose_ingress(load_settings(data_dir=tmp_path, **overrides), environ)
    assert choice.kind == "serve" and why in choice.why
    assert environ == {}
