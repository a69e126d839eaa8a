"""Delivery to real HTTP receivers on loopback: matching, ordering, outages, restarts,
500 subscriptions x 2,000 products with no loss and no duplicate; endpoints that may not be
reached, and hostile ones that must not hold up the others."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import insert

from prip_ray.bootstrap import Components
from prip_ray.db.rows import attribute_rows, product_row
from prip_ray.db.tables import attributes, outbox, products
from prip_ray.domain.products import NEVER, Attribute, Checksum, Product, TimeRange
from prip_ray.security.secrets import SecretBox
from prip_ray.services.notify import UNREADABLE_PASSWORD
from tests.pki import write_key_and_cert
from tests.receiver import LOOPBACK, basic, raw_endpoint, receiver

T0 = datetime(2025, 8, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def loopback_allowed(components: Components) -> None:
    """The receivers here are on loopback, which the notifier refuses unless allowed."""
    components.settings.subscriptions.allowed_networks = LOOPBACK


def product(index: int, kind: str = "L0") -> Product:
    return Product(
        id=uuid.uuid4(),
        name=f"S2B_OPER_MSI_{kind}_{index:05d}.tar",
        product_type="MSI_L0__GR",
        content_type="application/octet-stream",
        content_length=1000,
        origin_date=T0,
        publication_date=T0 + timedelta(seconds=index),
        eviction_date=NEVER,
        modification_date=T0,
        content_date=TimeRange(T0, T0),
        object_key=f"{index}/x",
        checksums=(Checksum("MD5", "0" * 32, T0),),
        attributes=(Attribute("tileId", "String", f"T{index % 7}"),),
    )


def publish(components: Components, items: list[Product]) -> None:
    """Rows and outbox events as ingestion writes them (one transaction)."""
    with components.engine.begin() as conn:
        conn.execute(insert(products), [product_row(p) for p in items])
        conn.execute(insert(attributes), [r for p in items for r in attribute_rows(p)])
        conn.execute(
            insert(outbox),
            [{"product_id": p.id, "event": "created", "created_at": T0} for p in items],
        )


def subscribe(
    components: Components, endpoint: str, filter_param: str, password: str | None = None
) -> uuid.UUID:
    sealed = components.secrets.seal(password) if password else None
    made = components.subscriptions.create(
        owner="sub", event="created", filter_param=filter_param, endpoint=endpoint,
        username="ep" if password else None, sealed_password=sealed, now=datetime.now(UTC),
    )  # fmt: skip
    return made.id


def drain(components: Components, rounds: int = 200, **overrides: object) -> int:
    notifier = components.notifier(**overrides)
    delivered = 0
    try:
        for _ in range(rounds):
            count = notifier.run_once()
            delivered += count
            if count == 0 and all(
                s.cursor == _newest(components) for s, _ in components.subscriptions.running()
            ):
                break
    finally:
        notifier.close()
    return delivered


def _newest(components: Components) -> int:
    events = components.subscriptions.events_after(0, 10**9)
    return events[-1].seq if events else 0


def test_matching_product_is_notified_with_credentials_and_the_other_is_not(
    components: Components,
) -> None:
    with receiver() as endpoint:
        key = subscribe(components, endpoint.url, "contains(Name,'_L0_')", password="ep-pw")
        publish(components, [product(1, "L0"), product(2, "L1")])
        assert drain(components) == 1
        (note,) = endpoint.received
        assert note["SubscriptionId"] == str(key) and note["ProductName"].endswith("_L0_00001.tar")
        assert note["@odata.context"] == "$metadata#Notification/$entity"
        assert (
            note["SubscriptionEvent"] == "created" and note["value"]["Name"] == note["ProductName"]
        )
        assert endpoint.authorizations == [basic("ep", "ep-pw")]
    assert components.subscriptions.get(key).last_notification_date is not None


def test_only_products_published_after_subscribing_are_notified(components: Components) -> None:
    publish(components, [product(1)])
    with receiver() as endpoint:
        subscribe(components, endpoint.url, "contains(Name,'MSI')")
        publish(components, [product(2)])
        drain(components)
        assert [n["ProductName"][-9:] for n in endpoint.received] == ["00002.tar"]


def test_an_outage_delays_but_loses_nothing_and_keeps_order(components: Components) -> None:
    with receiver() as endpoint:
        subscribe(components, endpoint.url, "contains(Name,'MSI')")
        publish(components, [product(i) for i in range(10)])
        endpoint.failing = 5  # the endpoint is down for the first five attempts
        settings = components.settings.subscriptions
        settings.retry_base_s, settings.retry_max_s = 0.01, 0.05
        deadline = time.monotonic() + 30
        while endpoint.count() < 10 and time.monotonic() < deadline:
            drain(components, rounds=5)
            time.sleep(0.02)
        names = [n["ProductName"] for n in endpoint.received]
        assert names == sorted(names) and len(names) == 10  # in order, once each


def test_a_restart_resumes_from_the_stored_cursor(components: Components) -> None:
    with receiver() as endpoint:
        subscribe(components, endpoint.url, "contains(Name,'MSI')")
        publish(components, [product(i) for i in range(5)])
        drain(components)
        publish(components, [product(i) for i in range(5, 8)])
        drain(components)  # a new Notifier: nothing in memory survived
        assert sorted(n["ProductName"][-9:-4] for n in endpoint.received) == [
            f"{i:05d}" for i in range(8)
        ]
        assert max(endpoint.pairs().values()) == 1


def test_an_endpoint_failing_too_long_turns_the_subscription_failed(components: Components) -> None:
    key = subscribe(components, "http://127.0.0.1:9/closed", "contains(Name,'MSI')")
    publish(components, [product(1)])
    settings = components.settings.subscriptions
    settings.fail_after_s, settings.retry_base_s, settings.timeout_s = 0.2, 0.01, 1
    deadline = time.monotonic() + 20
    while components.subscriptions.get(key).status == "running" and time.monotonic() < deadline:
        drain(components, rounds=1)
        time.sleep(0.05)
    failed = components.subscriptions.get(key)
    # What a subscriber may know, not the library's words with an address (was "unreachable")
    assert failed.status == "failed" and failed.last_error == "connection refused"


@pytest.mark.parametrize("components", ["postgresql"], indirect=True)
def test_500_subscriptions_2000_products_exactly_once(components: Components) -> None:
    with receiver() as endpoint:
        # subscription k hears of the products whose number ends in k: two each
        keys = [
            subscribe(components, endpoint.url, f"endswith(Name,'{k:03d}.tar')") for k in range(500)
        ]
        items = [product(i) for i in range(2000)]
        publish(components, items)
        started = time.monotonic()
        delivered = drain(components, rounds=1000)
        elapsed = time.monotonic() - started
        expected = {
            (str(p.id), str(keys[int(p.name[-7:-4])])) for p in items if int(p.name[-7:-4]) < 500
        }
        assert set(endpoint.pairs()) == expected
        assert max(endpoint.pairs().values()) == 1  # healthy endpoint: no duplicate
        assert delivered == len(expected)
        print(f"{delivered} notifications in {elapsed:.2f} s ({delivered / elapsed:.0f}/s)")


def test_an_endpoint_not_allowed_at_delivery_time_gets_nothing(components: Components) -> None:
    with receiver() as endpoint:
        # made while loopback was allowed (or when its name resolved elsewhere); by name, so
        # the notifier resolves it and checks what it resolves to
        key = subscribe(
            components, endpoint.url.replace("127.0.0.1", "localhost"), "contains(Name,'MSI')"
        )
        components.settings.subscriptions.allowed_networks = []
        publish(components, [product(1)])
        drain(components, rounds=1)
        assert endpoint.count() == 0
        assert components.subscriptions.get(key).last_error == "endpoint not allowed"


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    """An endpoint answering 302 to another one on loopback, which records what reaches it."""
    reached: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path == "/target":
                reached.append(self.command)
                self.send_response(200)
            else:
                self.send_response(302)
                self.send_header("Location", "/target")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify", reached
    server.shutdown()
    server.server_close()


def test_redirects_are_not_followed(
    components: Components, redirecting: tuple[str, list[str]]
) -> None:
    url, reached = redirecting
    key = subscribe(components, url, "contains(Name,'MSI')")
    publish(components, [product(1)])
    drain(components, rounds=1)
    assert reached == []  # urllib followed it before
    assert components.subscriptions.get(key).last_error == "HTTP 3xx (redirects are not followed)"


def test_last_error_says_the_status_class_and_no_address(components: Components) -> None:
    with receiver() as endpoint:
        key = subscribe(components, endpoint.url, "contains(Name,'MSI')")
        endpoint.failing = 1
        publish(components, [product(1)])
        drain(components, rounds=1)
        assert components.subscriptions.get(key).last_error == "HTTP 5xx"


def test_tls_endpoints_are_verified_though_reached_by_a_checked_address(
    components: Components, tmp_path: Path
) -> None:
    """The connection goes to the address resolved and checked beforehand, and TLS is still
    verified on it (here a self-signed certificate: refused, and said so)."""
    key, cert = write_key_and_cert(tmp_path / "tls")
    reached: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            reached.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://localhost:{server.server_address[1]}/notify"
        key_id = subscribe(components, url, "contains(Name,'MSI')")
        publish(components, [product(1)])
        drain(components, rounds=1)
    finally:
        server.shutdown()
        server.server_close()
    assert reached == []
    assert components.subscriptions.get(key_id).last_error == "TLS certificate not trusted"


GARBAGE_STATUS = b"SMTP ready\r\n\r\n"
MANY_HEADERS = (
    b"HTTP/1.1 200 OK\r\n" + b"".join(f"X-H{i}: {i}\r\n".encode() for i in range(200)) + b"\r\n"
)


def test_hostile_endpoints_do_not_hold_up_a_good_one(
    components: Components, tmp_path: Path
) -> None:
    settings = components.settings.subscriptions
    settings.timeout_s, settings.poll_interval_s = 3.0, 0.2
    settings.retry_base_s, settings.retry_max_s = 0.5, 1.0
    other_key = SecretBox(tmp_path / "another.key")  # the key was replaced since
    with (
        receiver() as good,
        raw_endpoint(GARBAGE_STATUS) as garbage,
        raw_endpoint(MANY_HEADERS) as headers,
        raw_endpoint(None) as silent,
    ):
        bad = {
            subscribe(components, garbage, "contains(Name,'MSI')"): "invalid HTTP answer",
            subscribe(components, headers, "contains(Name,'MSI')"): "invalid HTTP answer",
            subscribe(components, silent, "contains(Name,'MSI')"): "timeout",
        }
        made = components.subscriptions.create(
            owner="sub", event="created", filter_param="contains(Name,'MSI')", endpoint=good.url,
            username="ep", sealed_password=other_key.seal("pw"), now=datetime.now(UTC),
        )  # fmt: skip
        bad[made.id] = UNREADABLE_PASSWORD
        subscribe(components, good.url, "contains(Name,'MSI')")
        notifier = components.notifier()
        stop = threading.Event()

        def deliver() -> None:  # as the notifier actor's loop runs it
            while not stop.is_set():
                if notifier.run_once() == 0:
                    time.sleep(0.05)

        worker = threading.Thread(target=deliver)
        worker.start()
        try:
            delays = []
            for index in range(6):
                publish(components, [product(index)])
                published = time.monotonic()
                while good.count() < index + 1 and time.monotonic() - published < 10:
                    time.sleep(0.01)
                delays.append(time.monotonic() - published)
                time.sleep(0.3)
        finally:
            stop.set()
            worker.join()
            notifier.close()
        assert max(delays) < 1.5, delays  # before: each round waited for the silent one
        assert good.count() == 6 and max(good.pairs().values()) == 1  # once each, no repeat
        for key, error in bad.items():
            sub = components.subscriptions.get(key)
            assert (sub.status, sub.last_error) == ("running", error)
            assert sub.failing_since is not None and sub.cursor == 0
