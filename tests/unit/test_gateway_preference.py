"""Which node's download gateway a replica tries first (actors/gateway_directory.py)."""

from __future__ import annotations

from prip_ray.actors.gateway_directory import preference


def test_the_replicas_own_node_comes_first_then_the_others() -> None:
    order = preference(["a", "b", "own", "c"], "own", shuffle=list.sort)
    assert order == ["own", "a", "b", "c"]


def test_without_a_gateway_on_its_own_node_the_replica_tries_every_other() -> None:
    assert sorted(preference({"a", "b"}, "own")) == ["a", "b"]
    assert preference([], "own") == []


def test_the_others_are_spread_not_always_tried_in_the_same_order() -> None:
    firsts = {preference([str(i) for i in range(8)], "own")[0] for _ in range(200)}
    assert len(firsts) > 1
