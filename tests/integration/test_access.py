"""Authentication, roles, tokens, quotas and download history, in-process on both databases."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import AuthSettings
from prip_ray.db.counters import RequestCounters
from prip_ray.domain.passwords import hash_password, verify_password
from prip_ray.domain.users import QuotaOverrides
from prip_ray.errors import AuthenticationFailed
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from prip_ray.services.auth import SCRYPT_AT_ONCE, Authenticator
from prip_ray.services.history import HistoryCleaner
from prip_ray.services.tokens import TokenService
from tests.cheap_passwords import cheap_hash
from tests.samples import GRANULE

ALICE = basic_header("alice", "alice-pw")


def token_for(api: TestClient, **form: str) -> Any:
    return api.post("/oauth2/token", data=form)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def product_id(api: TestClient, stem: str) -> str:
    found = api.get(
        "/odata/v1/Products", params={"$filter": f"Name eq '{stem}.tar'"}, headers=ALICE
    )
    return str(found.json()["value"][0]["Id"])


def test_password_grant_gives_a_bearer_token_that_searches(api: TestClient) -> None:
    answer = token_for(api, grant_type="password", username="alice", password="alice-pw")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    found = api.get("/odata/v1/Products", headers=bearer(body["access_token"]))
    assert found.status_code == 200 and len(found.json()["value"]) == 3


def test_client_credentials_grant_by_form_and_by_basic(api: TestClient) -> None:
    by_form = token_for(
        api, grant_type="client_credentials", client_id="alice", client_secret="alice-pw"
    )
    assert by_form.status_code == 200
    by_basic = api.post("/oauth2/token", data={"grant_type": "client_credentials"}, headers=ALICE)
    assert by_basic.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password", "username": "alice", "password": "nope"}, 400, "invalid_grant"),
        (
            {"grant_type": "client_credentials", "client_id": "alice", "client_secret": "x"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "alice"}, 400, "invalid_request"),
        ({}, 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_errors_follow_rfc6749(
    api: TestClient, form: dict[str, str], status: int, error: str
) -> None:
    answer = token_for(api, **form)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert "access_token" not in answer.text


def _tampered(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "carol"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


def test_expired_tampered_foreign_and_malformed_tokens_get_401(
    api: TestClient, components: Components
) -> None:
    alice = components.users.get("alice")
    assert alice is not None
    good = components.tokens.issue(alice).access_token
    expired = components.tokens.issue(alice, now=time.time() - 7200).access_token
    other_audience = (
        TokenService(AuthSettings(audience="someone-else"), _private_key(components))
        .issue(alice)
        .access_token
    )
    none_alg = (
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        + "." + good.split(".")[1] + "."
    )  # fmt: skip
    for token in (expired, _tampered(good), other_audience, none_alg, "abc", "a.b.c", "x" * 20000):
        answer = api.get("/odata/v1/Products", headers=bearer(token))
        assert answer.status_code == 401, (token[:40], answer.text)
        assert answer.json()["error"]["code"] == "Unauthorized"
    assert api.get("/odata/v1/Products", headers=bearer(good)).status_code == 200


def _private_key(components: Components) -> Any:
    from prip_ray.security.keys import load_or_create_signing_key

    return load_or_create_signing_key(components.settings.token_key_file)


def test_disabling_a_user_takes_effect_at_once_even_for_tokens(
    api: TestClient, components: Components
) -> None:
    token = token_for(api, grant_type="password", username="alice", password="alice-pw").json()[
        "access_token"
    ]
    assert api.get("/odata/v1/Products", headers=ALICE).status_code == 200  # password now cached
    components.users.set_disabled("alice", True)
    assert api.get("/odata/v1/Products", headers=ALICE).status_code == 401
    assert api.get("/odata/v1/Products", headers=bearer(token)).status_code == 401
    components.users.set_disabled("alice", False)
    assert api.get("/odata/v1/Products", headers=bearer(token)).status_code == 200


def test_role_change_applies_on_the_next_request(api: TestClient, components: Components) -> None:
    key = product_id(api, GRANULE)
    assert api.get(f"/odata/v1/Products({key})/$value", headers=ALICE).status_code == 200
    components.users.set_role("alice", "catalogue")
    refused = api.get(f"/odata/v1/Products({key})/$value", headers=ALICE)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Forbidden"


def _clear_of_a_minute_boundary(seconds: float = 20.0) -> None:
    """Login failures and requests are counted per calendar minute: a test that counts up
    to a limit must not straddle two minutes, or it sees half the count in each."""
    second = datetime.now(UTC).second
    if second > 60 - seconds:
        time.sleep(60.5 - second)


def test_failed_logins_are_throttled(api: TestClient, components: Components) -> None:
    _clear_of_a_minute_boundary()
    for _ in range(components.settings.quotas.failed_logins_per_minute):
        assert (
            api.get("/odata/v1/Products", headers=basic_header("alice", "wrong")).status_code == 401
        )
    # even the right password waits, when it was not verified before the guessing began
    throttled = api.get("/odata/v1/Products", headers=ALICE)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "60"
    token = token_for(api, grant_type="password", username="alice", password="alice-pw")
    assert token.status_code == 429


def test_a_user_logged_in_keeps_working_while_guessers_are_throttled(
    api: TestClient, components: Components
) -> None:
    _clear_of_a_minute_boundary()
    assert api.get("/odata/v1/Products", headers=ALICE).status_code == 200  # verified now
    for _ in range(components.settings.quotas.failed_logins_per_minute):
        assert (
            api.get("/odata/v1/Products", headers=basic_header("alice", "guess")).status_code == 401
        )
    assert api.get("/odata/v1/Products", headers=basic_header("alice", "guess")).status_code == 429
    assert api.get("/odata/v1/Products", headers=ALICE).status_code == 200  # no lock-out
    components.users.set_disabled("alice", True)  # but the user row still decides
    assert api.get("/odata/v1/Products", headers=ALICE).status_code == 401


def test_request_rate_quota(api: TestClient, components: Components) -> None:
    _clear_of_a_minute_boundary()
    components.users.set_quotas("alice", QuotaOverrides(requests_per_minute=3))
    statuses = [api.get("/odata/v1/Products", headers=ALICE).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_volume_quota_counts_the_download_history(api: TestClient, components: Components) -> None:
    key = product_id(api, GRANULE)
    size = int(api.get(f"/odata/v1/Products({key})", headers=ALICE).json()["ContentLength"])
    components.users.set_quotas("alice", QuotaOverrides(volume_bytes=size + size // 2))
    first = api.get(f"/odata/v1/Products({key})/$value", headers=ALICE)
    assert first.status_code == 200 and len(first.content) == size
    second = api.get(f"/odata/v1/Products({key})/$value", headers=ALICE)
    assert second.status_code == 429 and "volume quota" in second.json()["error"]["message"]
    assert int(second.headers["Retry-After"]) > 0
    (record,) = components.downloads.recent("alice")
    assert (record.status, record.bytes_sent, record.product_name) == (
        "completed",
        size,
        f"{GRANULE}.tar",
    )
    quotas = {q["Name"]: q for q in api.get("/odata/v1/Quotas", headers=ALICE).json()["value"]}
    assert quotas["DownloadVolume"]["Used"] == size
    assert quotas["ParallelDownloads"] == {"Name": "ParallelDownloads", "Limit": 4, "Used": 0}


def test_parallel_slots_are_taken_and_freed(api: TestClient, components: Components) -> None:
    alice = components.users.get("alice")
    assert alice is not None
    components.users.set_quotas("alice", QuotaOverrides(max_parallel=1))
    alice = components.users.get("alice")
    assert alice is not None
    product = components.products.by_name(f"{GRANULE}.tar")
    assert product is not None
    first = components.quotas.start(alice, product)
    key = str(product.id)
    busy = api.get(f"/odata/v1/Products({key})/$value", headers=ALICE)
    assert busy.status_code == 429 and "in parallel" in busy.json()["error"]["message"]
    stream = components.quotas.metered(first, iter([b"x" * 10, b"y" * 10]))
    next(stream)
    stream.close()  # the client went away after one chunk
    assert components.downloads.recent("alice")[0].status == "aborted"
    assert api.get(f"/odata/v1/Products({key})/$value", headers=ALICE).status_code == 200


def test_history_cleaner_forgets_what_no_window_needs(
    api: TestClient, components: Components
) -> None:
    alice = components.users.get("alice")
    product = components.products.by_name(f"{GRANULE}.tar")
    assert alice is not None and product is not None
    now = datetime.now(UTC)
    for _ in range(3):
        components.downloads.finish(components.quotas.start(alice, product), 1, True, now)
    components.counters.hit("req:alice", now)
    later = now + timedelta(days=31)
    cleaner = HistoryCleaner(
        components.downloads, components.counters, components.users, 30, now=lambda: later
    )
    run = cleaner.run_once(batch=2)  # several small batches
    assert (run.downloads_removed, run.counters_removed) == (3, 1)
    assert components.downloads.recent("alice") == []


def test_history_cleaner_keeps_what_a_user_window_still_needs(
    api: TestClient, components: Components
) -> None:
    components.users.set_quotas("alice", QuotaOverrides(window_days=90))
    alice, product = components.users.get("alice"), components.products.by_name(f"{GRANULE}.tar")
    assert alice is not None and product is not None
    components.downloads.finish(components.quotas.start(alice, product), 1, True, datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(days=31)
    cleaner = HistoryCleaner(
        components.downloads, components.counters, components.users, 30, now=lambda: later
    )
    assert cleaner.run_once().downloads_removed == 0


def test_behind_a_trusted_proxy_the_throttle_counts_each_forwarded_client(
    api: TestClient, components: Components
) -> None:
    _clear_of_a_minute_boundary()
    components.settings.api.trusted_proxies = ["10.0.0.0/8"]
    services = api_services(components)
    with TestClient(create_app(services), client=("10.1.2.3", 40000)) as proxied:

        def login(name: str, client: str) -> int:
            forwarded = {"X-Forwarded-For": f"{client}, 10.4.5.6"}  # ingress, then HAProxy
            headers = basic_header(name, "guess") | forwarded
            return proxied.get("/odata/v1/Products", headers=headers).status_code

        allowed = components.settings.quotas.failed_logins_per_minute
        # one guesser tries many names: the throttle by name never fires, the one by address does
        assert [login(f"guess{i}", "198.51.100.7") for i in range(allowed)] == [401] * allowed
        assert login("another", "198.51.100.7") == 429
        assert login("another", "203.0.113.20") == 401  # another client behind the same proxy


def test_logins_at_once_with_the_same_credentials_verify_the_password_once(
    components: Components,
) -> None:
    """When a remembered login expires under load, one request runs scrypt and the others
    wait for it; a wrong password is still checked (and refused) every time."""
    components.users.add("dave", cheap_hash("dave-pw"), "download")
    verified: list[str] = []

    def verify(password: str, stored: str) -> bool:
        verified.append(password)
        return verify_password(password, stored)

    now = [0.0]
    auth = Authenticator(components.users, clock=lambda: now[0], verify=verify)
    for expired_at in (0.0, 31.0):  # first logins, then all at once after the cache expired
        now[0] = expired_at
        start = threading.Barrier(8)

        def login(start: threading.Barrier = start) -> str:
            start.wait()
            return auth.login("dave", "dave-pw").name

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(lambda _: login(), range(8))) == ["dave"] * 8
    assert verified == ["dave-pw", "dave-pw"]
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            auth.login("dave", "wrong")
    assert verified.count("wrong") == 2


def test_request_counters_add_what_they_are_given(components: Components) -> None:
    """The first count of a minute inserts the row with the amount given, later ones add."""
    counters = RequestCounters(components.engine)
    now = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
    assert counters.hit("req:erin", now, 5) == 5
    assert counters.hit("req:erin", now, 3) == 8
    assert counters.count("req:erin", now + timedelta(minutes=1)) == 0


def test_a_login_upgrades_a_hash_made_at_a_lower_scrypt_cost(
    api: TestClient, components: Components
) -> None:
    today = components.settings.auth.scrypt_n  # the tests run at a cheap cost
    old = hash_password("old-pw", n=today // 4)  # what an earlier release stored
    components.users.add("olduser", old, "download")
    headers = basic_header("olduser", "old-pw")
    assert api.get("/odata/v1/Products", headers=headers).status_code == 200
    user = components.users.get("olduser")
    assert user is not None and user.password_hash != old
    assert int(user.password_hash.split("$")[1]) == today
    assert verify_password("old-pw", user.password_hash)
    assert api.get("/odata/v1/Products", headers=headers).status_code == 200
    wrong = basic_header("olduser", "guess")
    assert api.get("/odata/v1/Products", headers=wrong).status_code == 401
    assert components.users.get("olduser").password_hash == user.password_hash  # type: ignore[union-attr]


def test_only_a_few_password_checks_run_at_once(components: Components) -> None:
    """scrypt holds 128 MiB while it runs: a burst of logins for many users must not take
    a replica's memory (before: one check per name at once, 8 here)."""
    names = [f"user{i}" for i in range(8)]
    for name in names:
        components.users.add(name, cheap_hash("pw"), "download")
    running, most = [0], [0]
    lock = threading.Lock()

    def verify(password: str, stored: str) -> bool:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return verify_password(password, stored)

    auth = Authenticator(components.users, verify=verify)
    start = threading.Barrier(len(names))

    def login(name: str) -> str:
        start.wait()
        return auth.login(name, "pw").name

    with ThreadPoolExecutor(len(names)) as pool:
        assert list(pool.map(login, names)) == names
    assert most[0] == SCRYPT_AT_ONCE
