"""The Subscriptions entity set: create, list, read, status changes, delete, ownership,
limits, and endpoints that may not be reached."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.db.tables import subscriptions
from prip_ray.domain.subscriptions import Subscription
from prip_ray.domain.users import User
from prip_ray.errors import QuotaExceeded
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.receiver import LOOPBACK

SUB = basic_header("sub", "sub-pw")
GOOD = {
    "FilterParam": "startswith(Name,'S2B_OPER_MSI_L0')",
    # A public address, no name: creation resolves names, and tests have no outside DNS.
    "NotificationEndpoint": "https://93.184.215.14/notify",
    "NotificationEpUsername": "lta",
    "NotificationEpPassword": "ep-secret",
}


@pytest.fixture
def subscribers(api: TestClient, components: Components) -> TestClient:
    components.users.add("sub", cheap_hash("sub-pw"), "subscriptions")
    components.users.add("other", cheap_hash("other-pw"), "subscriptions")
    components.users.add("root", cheap_hash("root-pw"), "admin")
    return api


def create(api: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return api.post("/odata/v1/Subscriptions", json={**GOOD, **changes}, headers=headers)


def test_create_read_list_and_the_password_never_comes_back(
    subscribers: TestClient, components: Components
) -> None:
    made = create(subscribers, SUB)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["@odata.context"] == "$metadata#OData.CSC.Subscription"
    assert body["Status"] == "running" and body["SubscriptionEvent"] == "created"
    assert "NotificationEpPassword" not in body and "ep-secret" not in made.text
    one = subscribers.get(f"/odata/v1/Subscriptions({body['Id']})", headers=SUB).json()
    assert one["FilterParam"] == GOOD["FilterParam"] and "ep-secret" not in str(one)
    listed = subscribers.get("/odata/v1/Subscriptions", headers=SUB).json()["value"]
    assert [s["Id"] for s in listed] == [body["Id"]]
    with components.engine.connect() as conn:
        stored = conn.execute(subscriptions.select()).mappings().one()
    assert stored["endpoint_password"] and "ep-secret" not in stored["endpoint_password"]
    assert components.secrets.open(stored["endpoint_password"]) == "ep-secret"


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"FilterParam": "Name eq"}, "$filter"),
        ({"FilterParam": "Foo eq 1"}, "unknown property"),
        ({"FilterParam": None}, "FilterParam"),
        ({"NotificationEndpoint": "ftp://x/y"}, "http(s)"),
        ({"NotificationEndpoint": "file:///etc/passwd"}, "http(s)"),
        ({"NotificationEpPassword": "x" * 300}, "at most 256"),
        ({"SubscriptionEvent": "modified"}, "SubscriptionEvent"),
    ],
)
def test_invalid_requests_are_400_and_store_nothing(
    subscribers: TestClient, components: Components, changes: dict[str, Any], complaint: str
) -> None:
    answer = create(subscribers, SUB, **changes)
    assert answer.status_code == 400 and complaint in answer.json()["error"]["message"]
    assert components.subscriptions.list() == []


def test_status_changes_by_patch_and_actions_then_delete(subscribers: TestClient) -> None:
    key = create(subscribers, SUB).json()["Id"]
    url = f"/odata/v1/Subscriptions({key})"
    assert subscribers.post(f"{url}/OData.CSC.Pause", headers=SUB).status_code == 204
    assert subscribers.get(url, headers=SUB).json()["Status"] == "paused"
    assert subscribers.patch(url, json={"Status": "running"}, headers=SUB).status_code == 204
    assert subscribers.post(f"{url}/OData.CSC.Cancel", headers=SUB).status_code == 204
    resumed = subscribers.post(f"{url}/OData.CSC.Resume", headers=SUB)
    assert resumed.status_code == 400 and "cancelled" in resumed.json()["error"]["message"]
    assert subscribers.patch(url, json={"Status": "bogus"}, headers=SUB).status_code == 400
    assert subscribers.delete(url, headers=SUB).status_code == 204
    assert subscribers.get(url, headers=SUB).status_code == 404


def test_users_see_only_their_own_and_admin_sees_all(subscribers: TestClient) -> None:
    key = create(subscribers, SUB).json()["Id"]
    other = basic_header("other", "other-pw")
    assert subscribers.get(f"/odata/v1/Subscriptions({key})", headers=other).status_code == 404
    assert subscribers.delete(f"/odata/v1/Subscriptions({key})", headers=other).status_code == 404
    assert subscribers.get("/odata/v1/Subscriptions", headers=other).json()["value"] == []
    admin = basic_header("root", "root-pw")
    assert len(subscribers.get("/odata/v1/Subscriptions", headers=admin).json()["value"]) == 1
    downloader = subscribers.get(
        "/odata/v1/Subscriptions", headers=basic_header("alice", "alice-pw")
    )
    assert downloader.status_code == 403


def test_limits_per_user(subscribers: TestClient) -> None:
    assert create(subscribers, SUB).status_code == 201
    second = create(subscribers, SUB)  # default: one running subscription per user
    assert second.status_code == 429 and "at most 1 running" in second.json()["error"]["message"]


def test_limits_hold_on_resume_too(subscribers: TestClient) -> None:
    first = create(subscribers, SUB).json()["Id"]
    url = f"/odata/v1/Subscriptions({first})"
    assert subscribers.post(f"{url}/OData.CSC.Pause", headers=SUB).status_code == 204
    second = create(subscribers, SUB)  # one running again
    assert second.status_code == 201
    resumed = subscribers.post(f"{url}/OData.CSC.Resume", headers=SUB)  # before: two running
    assert resumed.status_code == 429 and "at most 1 running" in resumed.json()["error"]["message"]
    patched = subscribers.patch(url, json={"Status": "running"}, headers=SUB)
    assert patched.status_code == 429
    assert subscribers.get(url, headers=SUB).json()["Status"] == "paused"
    other = f"/odata/v1/Subscriptions({second.json()['Id']})"
    assert subscribers.post(f"{other}/OData.CSC.Cancel", headers=SUB).status_code == 204
    assert subscribers.post(f"{url}/OData.CSC.Resume", headers=SUB).status_code == 204


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8000/admin",
        "http://localhost/notify",  # a name that resolves to loopback
        "http://10.0.0.5/notify",
        "http://192.168.1.1/notify",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://[::1]/notify",
        "http://[::ffff:127.0.0.1]/notify",
        "http://[::ffff:169.254.169.254]/notify",
        "http://[fe80::1]/notify",
        "http://224.0.0.1/notify",
        "http://0.0.0.0:8000/notify",
        "http://240.0.0.1/notify",
        "http://100.64.0.1/notify",
        "http://no-such-host.invalid/notify",  # said alike: no hint about internal names
    ],
)
def test_endpoints_reaching_inside_are_refused(
    subscribers: TestClient, components: Components, endpoint: str
) -> None:
    answer = create(subscribers, SUB, NotificationEndpoint=endpoint)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "EndpointNotAllowed" and "public addresses" in error["message"]
    assert components.subscriptions.list() == []


def test_networks_the_operator_allows_may_be_reached(
    components: Components, subscribers: TestClient
) -> None:
    components.settings.subscriptions.allowed_networks = LOOPBACK
    with TestClient(create_app(api_services(components))) as api:
        made = create(api, SUB, NotificationEndpoint="http://localhost:8080/notify")
        assert made.status_code == 201, made.text
        refused = create(api, SUB, NotificationEndpoint="http://10.0.0.5/notify")
        assert refused.status_code == 400  # only what is listed


@pytest.mark.parametrize("attempt", range(3))
def test_limits_hold_for_requests_at_once(components: Components, attempt: int) -> None:
    """Counting and writing were separate steps: requests at once all saw room for one."""
    user = User("racer", "subscriptions", False, datetime.now(UTC), "-")
    service = components.subscription_service()
    fields = {"event": "created", "filter_param": GOOD["FilterParam"], "username": None,
              "password": None, "endpoint": GOOD["NotificationEndpoint"]}  # fmt: skip
    start = threading.Barrier(6)

    def create_one(_: int) -> str:
        start.wait()
        try:
            service.create(user, now=datetime.now(UTC), **fields)
        except QuotaExceeded:
            return "refused"
        return "created"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(create_one, range(6)))
    assert sorted(outcomes) == ["created"] + ["refused"] * 5
    made = components.subscriptions.list("racer")
    for sub in made:
        service.set_status(user, sub, "paused")
    more = []
    for _ in range(4):  # five paused, none running
        more.append(service.create(user, now=datetime.now(UTC), **fields))
        service.set_status(user, more[-1], "paused")

    def resume(sub: Subscription) -> str:
        start.wait()
        try:
            service.set_status(user, sub, "running")
        except QuotaExceeded:
            return "refused"
        return "resumed"

    paused = components.subscriptions.list("racer")  # as the route reads them: paused
    assert [s.status for s in paused] == ["paused"] * 5
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(resume, [*paused, paused[0]]))
    assert outcomes.count("resumed") == 1 or (
        outcomes.count("resumed") == 2 and outcomes[0] == outcomes[-1] == "resumed"
    )  # the same one resumed twice is still one running
    assert components.subscriptions.counts("racer")[0] == 1
