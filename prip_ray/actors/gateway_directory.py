"""GatewayDirectory: where an API replica sends ``$value`` clients for the bytes.

The gateways are named actors, one per node (``prip-download-gateway-<node id>``), so the
directory lists them through Ray every ``refresh_s`` and asks each new one its address once.
Ray forgets a gateway when it dies, but only once it has noticed, so before a redirect the
directory also asks the chosen gateway's ``/health`` (one keep-alive request); one that does
not answer is dropped until Ray lists it again and it tells its address anew. The replica's
own node comes first, which keeps the bytes off the network between nodes; the others
follow in random order, which spreads the load when the own node has no live gateway. No
live gateway at all: ``None``, and the replica streams the bytes itself.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import httpx
import ray

from prip_ray.actors.factory import download_gateway_names
from prip_ray.actors.names import DOWNLOAD_GATEWAY

log = logging.getLogger(__name__)


def preference(
    nodes: Collection[str], own_node: str, shuffle: Callable[[list[str]], None] = random.shuffle
) -> list[str]:
    """The nodes whose gateway to try, in order: the own node's, then the others."""
    others = [node for node in nodes if node != own_node]
    shuffle(others)
    return ([own_node] if own_node in nodes else []) + others


class GatewayDirectory:
    def __init__(self, namespace: str, *, refresh_s: float = 2.0, probe_timeout_s: float = 1.0):
        self._namespace = namespace
        self._node = ray.get_runtime_context().get_node_id()
        self._refresh_s = refresh_s
        self._client = httpx.Client(timeout=probe_timeout_s)
        self._lock = threading.Lock()
        self._listed_at = float("-inf")
        self._urls: dict[str, str] = {}  # node id -> base URL
        self._asked: dict[str, Any] = {}  # node id -> pending address() reply

    def pick(self) -> str | None:
        with self._lock:
            self._refresh()
            urls = dict(self._urls)
        for node in preference(urls.keys(), self._node):
            if self._answers(urls[node]):
                return urls[node]
            with self._lock:  # asked again at the next listing: a restart may change its port
                if self._urls.get(node) == urls[node]:
                    del self._urls[node]
        return None

    def _answers(self, url: str) -> bool:
        try:
            return self._client.get(f"{url}/health").status_code == 200
        except httpx.HTTPError as e:
            log.info("download gateway %s does not answer: %s", url, e)
            return False

    def _refresh(self) -> None:
        if time.monotonic() - self._listed_at < self._refresh_s:
            return
        prefix = f"{DOWNLOAD_GATEWAY}-"
        listed = {n.removeprefix(prefix) for n in download_gateway_names(self._namespace)}
        self._urls = {node: url for node, url in self._urls.items() if node in listed}
        for node in listed - self._urls.keys() - self._asked.keys():
            try:
                handle = ray.get_actor(f"{prefix}{node}", namespace=self._namespace)
            except ValueError:  # died since the listing
                continue
            self._asked[node] = handle.address.remote()
        self._collect_addresses()
        self._listed_at = time.monotonic()

    def _collect_addresses(self) -> None:
        """The address replies that came; one still starting is looked at next time. Only
        a directory that knows no gateway yet waits for them (a second at most)."""
        if not self._asked:
            return
        pending = list(self._asked.values())
        wait_s = 0.0 if self._urls else 1.0
        ready, _ = ray.wait(pending, num_returns=len(pending), timeout=wait_s)
        for node, reply in list(self._asked.items()):
            if reply in ready:
                del self._asked[node]
                try:
                    self._urls[node] = ray.get(reply)
                except ray.exceptions.RayError as e:  # it died before it answered
                    log.info("download gateway on node %s is gone: %s", node, e)
