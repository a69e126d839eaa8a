"""``python -m prip_ray`` is the ``prip-ray`` command."""

from prip_ray.cli import main

main()
