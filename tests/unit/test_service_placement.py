"""Where shards and singletons may run (actors/factory.py: service_placement), from settings
as an operator writes them."""

from __future__ import annotations

from prip_ray.actors.factory import service_placement
from prip_ray.config import load_settings


def test_by_default_ray_places_them_anywhere() -> None:
    assert service_placement(load_settings(environ={})) == {}


def test_a_resource_keeps_them_to_the_nodes_that_offer_it_spread_over_them() -> None:
    environ = {
        "PRIP_RAY__SERVICE_RESOURCES": '{"prip-services": 1}',
        "PRIP_RAY__SPREAD_SERVICES": "true",
    }
    placement = service_placement(load_settings(environ=environ))
    assert placement == {"resources": {"prip-services": 1.0}, "scheduling_strategy": "SPREAD"}
