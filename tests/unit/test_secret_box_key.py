"""The subscription key file made on first use: the replicas of a first start all make it
at once, and every one must end with the same, whole key."""

from __future__ import annotations

import threading
from pathlib import Path

from prip_ray.security.secrets import SecretBox


def test_processes_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    for attempt in range(30):  # the race is narrow: a reader between create and write
        _first_start(tmp_path / str(attempt) / "subscription.key")


def _first_start(key_file: Path) -> None:
    start = threading.Barrier(16)
    boxes: list[SecretBox] = []
    errors: list[Exception] = []

    def open_box() -> None:
        start.wait()
        try:
            boxes.append(SecretBox(key_file))
        except Exception as e:  # what a replica that read a half-made key raised
            errors.append(e)

    threads = [threading.Thread(target=open_box) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sealed = boxes[0].seal("endpoint-password")
    assert {box.open(sealed) for box in boxes} == {"endpoint-password"}
    assert [p.name for p in key_file.parent.iterdir()] == ["subscription.key"]  # no drafts
    assert (key_file.stat().st_mode & 0o777) == 0o600
