"""POST a notification to a subscriber's endpoint (stdlib HTTP, optional Basic credentials).

The endpoint is a URL a subscriber chose, reached from inside the operator's network, so
every POST resolves the name itself, checks every address against the EndpointPolicy
(domain/endpoints.py), and connects to a checked address: the name cannot resolve to a
public address when the subscription is made and to 169.254.169.254 when it is used.
Redirects are not followed (a 3xx is a failure), and the whole exchange, from resolving to
the status line, has one deadline.

Any status other than 2xx, and any failure, is a DeliveryFailed the notifier retries. Its
message is what the subscriber sees as LastError: the kind of failure ("HTTP 5xx",
"timeout", "connection refused", "endpoint not allowed"), never an address we resolved or a
library's words, which would tell a scanner about the inside.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from prip_ray.domain.endpoints import EndpointPolicy
from prip_ray.errors import DeliveryFailed as DeliveryFailed
from prip_ray.errors import EndpointNotAllowed, Unavailable

NOT_ALLOWED = "endpoint not allowed"
Resolver = Callable[..., list[Any]]  # socket.getaddrinfo's signature


class Webhook:
    def __init__(
        self,
        policy: EndpointPolicy,
        timeout_s: float,
        *,
        resolve: Resolver = socket.getaddrinfo,
    ):
        self._policy = policy
        self._timeout = timeout_s
        self._resolve = resolve
        self._tls: ssl.SSLContext | None = None  # made once: loading the CAs takes ~10 ms

    def check(self, url: str) -> None:
        """At creation: EndpointNotAllowed unless ``url``'s host resolves to allowed
        addresses only. A name that does not resolve is refused alike, so the answer says
        nothing about names in the operator's DNS; a DNS outage is Unavailable."""
        parts = urlsplit(url)
        try:
            self._addresses(parts.hostname or "", parts.port or 443)
        except DeliveryFailed as e:
            if str(e) == "name resolution failed":
                raise Unavailable("cannot resolve NotificationEndpoint now; retry later") from None
            raise EndpointNotAllowed(
                "NotificationEndpoint must resolve to public addresses only"
            ) from None

    def post_json(
        self, url: str, body: dict[str, Any], *, username: str | None, password: str | None
    ) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise DeliveryFailed("invalid endpoint URL") from None
        addresses = self._addresses(parts.hostname or "", port)
        headers = {"Content-Type": "application/json"}
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        tls = self._tls_context() if parts.scheme == "https" else None
        self._exchange(tls, parts.hostname or "", port, addresses, target, body, headers)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def _addresses(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, if the policy allows them all."""
        try:
            found = self._resolve(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            if e.errno == socket.EAI_AGAIN:
                raise DeliveryFailed("name resolution failed") from None
            raise DeliveryFailed(NOT_ALLOWED) from None  # no such name: said as for internal
        except (OSError, UnicodeError, ValueError):
            raise DeliveryFailed(NOT_ALLOWED) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        # One bad address refuses them all: a name answering both a public and an internal
        # address would otherwise reach the inside whenever the public one fails.
        if not addresses or not all(self._policy.allows(a) for a in addresses):
            raise DeliveryFailed(NOT_ALLOWED)
        return addresses

    def _exchange(
        self,
        tls: ssl.SSLContext | None,
        host: str,
        port: int,
        addresses: list[str],
        target: str,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> None:
        connection = _Connection(host, port, addresses, self._timeout, tls)
        expired = threading.Event()

        def expire() -> None:  # the socket timeout bounds each read, this the whole exchange
            expired.set()
            connection.abort()

        watchdog = threading.Timer(self._timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target, body=json.dumps(body).encode(), headers=headers)
            status = connection.getresponse().status
        except Exception as e:
            raise DeliveryFailed("timeout" if expired.is_set() else _failure(e)) from None
        finally:
            watchdog.cancel()
            connection.close()
        if 300 <= status < 400:
            raise DeliveryFailed(f"HTTP {status // 100}xx (redirects are not followed)")
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status // 100}xx")


class _Connection(http.client.HTTPConnection):
    """HTTP(S) to ``host`` (its Host header, TLS name and certificate) at addresses resolved
    and checked beforehand, never resolved again."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        timeout: float,
        tls: ssl.SSLContext | None,
    ):
        super().__init__(host, port, timeout=timeout)
        self.default_port = 443 if tls else 80  # the Host header leaves the default out
        self._addresses = addresses
        self._tls = tls

    def connect(self) -> None:
        sock = _connect_any(self._addresses, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host) if self._tls else sock

    def abort(self) -> None:
        """From another thread: make a blocked read or write return at once."""
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile
                sock.shutdown(socket.SHUT_RDWR)


def _connect_any(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    failure: OSError = ConnectionRefusedError()
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as e:
            failure = e
    raise failure


def _failure(error: Exception) -> str:
    """What a subscriber may read about a failed exchange."""
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted"
    if isinstance(error, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(error, (http.client.HTTPException, UnicodeError, ValueError)):
        return "invalid HTTP answer"
    if isinstance(error, OSError):
        return "connection failed"
    return "delivery failed"
