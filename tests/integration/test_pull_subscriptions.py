"""Pull subscriptions through the API, as CDSE documents them: created without an endpoint,
the notifier queues what matches, the owner Reads (with AckIds) and Acks; nobody else can,
and bad $top or $ackid are 400 with an OData error."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prip_ray.bootstrap import Components
from prip_ray.db.tables import pull_queue
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.integration.conftest import SAMPLES
from tests.integration.test_csdl_conformance import Schema

SUB, OTHER, ROOT = (
    basic_header("sub", "sub-pw"), basic_header("other", "other-pw"), basic_header("root", "root-pw")
)  # fmt: skip
GRANULE, DATASTRIP = (next(s for s in SAMPLES if kind in s.name) for kind in ("L0__GR", "L0__DS"))
ROOT_URL = "/odata/v1/Subscriptions"


@pytest.fixture
def client(components: Components) -> Iterator[TestClient]:
    for name, role in (("sub", "subscriptions"), ("other", "subscriptions"), ("root", "admin")):
        components.users.add(name, cheap_hash(f"{name}-pw"), role)
    with TestClient(create_app(api_services(components))) as made:
        yield made


def pull_subscription(client: TestClient, filter_param: str) -> str:
    made = client.post(ROOT_URL, json={"FilterParam": filter_param}, headers=SUB)
    assert made.status_code == 201, made.text
    assert made.json()["NotificationEndpoint"] is None
    return str(made.json()["Id"])


def ingest_and_notify(components: Components, *samples: Any) -> None:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    for sample in samples:
        assert components.ingest.ingest(shutil.copy(sample, inbox / sample.name)).status == (
            "published"
        )
    notifier = components.notifier()
    try:
        notifier.run_once()
    finally:
        notifier.close()


def test_read_gives_the_matching_notification_and_ack_takes_it_off(
    client: TestClient, components: Components
) -> None:
    key = pull_subscription(client, "contains(Name,'_L0__GR_')")
    ingest_and_notify(components, GRANULE, DATASTRIP)

    read = client.get(f"{ROOT_URL}({key})/Read?$top=20", headers=SUB)
    assert read.status_code == 200, read.text
    (note,) = read.json()
    assert note["ProductName"] == GRANULE.name and note["SubscriptionId"] == key
    assert note["@odata.context"] == "$metadata#Notification/$entity"
    assert note["SubscriptionEvent"] == "created" and note["value"]["Name"] == GRANULE.name

    acked = client.post(f"{ROOT_URL}({key})/Ack", params={"$ackid": note["AckId"]}, headers=SUB)
    assert acked.status_code == 200, acked.text
    assert acked.json() == {
        "@odata.context": "$metadata#Notification/$entity",
        "AckMessagesNum": 1,
        "CurrentQueueLength": 0,
        "MaxQueueLength": components.settings.subscriptions.max_queue_length,
    }
    assert client.get(f"{ROOT_URL}({key})/Read", headers=SUB).json() == []
    schema = Schema(client.get("/odata/v1/$metadata?$format=json", headers=SUB).json())
    assert schema.check("Notification", note, "Read") == 7  # $metadata declares them all
    assert schema.check("AckResult", acked.json(), "Ack") == 3


def test_ack_takes_the_named_notification_and_those_before_it(
    client: TestClient, components: Components
) -> None:
    key = pull_subscription(client, "startswith(Name,'S2B_OPER_MSI_L')")
    ingest_and_notify(components, *SAMPLES)
    first_two = client.get(f"{ROOT_URL}({key})/Read?$top=2", headers=SUB).json()
    assert len(first_two) == 2 and len(SAMPLES) == 3

    acked = client.get(f"{ROOT_URL}({key})/Ack?$ackid={first_two[1]['AckId']}", headers=SUB)

    assert (acked.json()["AckMessagesNum"], acked.json()["CurrentQueueLength"]) == (2, 1)
    (left,) = client.get(f"{ROOT_URL}({key})/Read?$top=5", headers=SUB).json()
    assert left["ProductName"] not in {n["ProductName"] for n in first_two}

    assert client.delete(f"{ROOT_URL}({key})", headers=SUB).status_code == 204
    with components.engine.connect() as conn:  # the queue goes with its subscription
        assert conn.execute(select(func.count()).select_from(pull_queue)).scalar_one() == 0


def test_a_full_queue_drops_the_oldest_and_counts_it(
    client: TestClient, components: Components
) -> None:
    components.settings.subscriptions.max_queue_length = 2  # read when the notifier is built
    key = pull_subscription(client, "startswith(Name,'S2B_OPER_MSI_L')")
    ingest_and_notify(components, *SAMPLES)

    kept = client.get(f"{ROOT_URL}({key})/Read?$top=20", headers=SUB).json()
    queue = components.pull_queue
    assert [n["ProductName"] for n in kept] == [s.name for s in SAMPLES[1:]]
    assert (queue.length(UUID(key)), queue.dropped(UUID(key))) == (2, 1)
    acked = client.post(f"{ROOT_URL}({key})/Ack?$ackid={kept[0]['AckId']}", headers=SUB).json()
    assert (acked["AckMessagesNum"], acked["CurrentQueueLength"], acked["MaxQueueLength"]) == (
        1, 1, 2
    )  # fmt: skip


def test_nobody_but_the_owner_reads_or_acks_the_queue(
    client: TestClient, components: Components
) -> None:
    key = pull_subscription(client, "contains(Name,'_L0__GR_')")
    ingest_and_notify(components, GRANULE)
    (note,) = client.get(f"{ROOT_URL}({key})/Read", headers=SUB).json()

    for who, status in ((OTHER, 404), (ROOT, 403)):
        assert client.get(f"{ROOT_URL}({key})/Read", headers=who).status_code == status
        ack = client.post(f"{ROOT_URL}({key})/Ack?$ackid={note['AckId']}", headers=who)
        assert ack.status_code == status and "error" in ack.json()
    assert client.get(f"{ROOT_URL}({key})/Read", headers=SUB).json() == [note]


def test_bad_top_and_ack_ids_are_400(client: TestClient) -> None:
    key = pull_subscription(client, "Online")
    for query, complaint in (
        ("Read?$top=0", "1 to 20"),
        ("Read?$top=21", "1 to 20"),
        ("Read?$top=x", "1 to 20"),
        ("Ack", "$ackid"),
        ("Ack?$ackid=nonsense", "AckId"),
    ):
        method = client.get if query.startswith("Read") else client.post
        answer = method(f"{ROOT_URL}({key})/{query}", headers=SUB)
        assert answer.status_code == 400, query
        assert complaint in answer.json()["error"]["message"], query


def test_an_ack_id_of_another_queue_or_already_acknowledged_is_400(
    client: TestClient, components: Components
) -> None:
    # One running subscription per user: the other is made while this one is paused.
    mine = pull_subscription(client, "contains(Name,'_L0__GR_')")
    client.patch(f"{ROOT_URL}({mine})", json={"Status": "paused"}, headers=SUB)
    theirs = pull_subscription(client, "contains(Name,'_L0__GR_')")
    client.patch(f"{ROOT_URL}({theirs})", json={"Status": "paused"}, headers=SUB)
    client.patch(f"{ROOT_URL}({mine})", json={"Status": "running"}, headers=SUB)
    ingest_and_notify(components, GRANULE)
    (note,) = client.get(f"{ROOT_URL}({mine})/Read", headers=SUB).json()

    elsewhere = client.post(f"{ROOT_URL}({theirs})/Ack?$ackid={note['AckId']}", headers=SUB)
    first = client.post(f"{ROOT_URL}({mine})/Ack?$ackid={note['AckId']}", headers=SUB)
    again = client.post(f"{ROOT_URL}({mine})/Ack?$ackid={note['AckId']}", headers=SUB)

    assert (elsewhere.status_code, first.status_code, again.status_code) == (400, 200, 400)
    assert "acknowledged already" in again.json()["error"]["message"]


def test_a_push_subscription_has_no_queue_to_read(client: TestClient) -> None:
    made = client.post(
        ROOT_URL,
        json={"FilterParam": "Online", "NotificationEndpoint": "https://93.184.215.14/notify"},
        headers=SUB,
    )
    answer = client.get(f"{ROOT_URL}({made.json()['Id']})/Read", headers=SUB)
    assert answer.status_code == 400 and "pull" in answer.json()["error"]["message"]
