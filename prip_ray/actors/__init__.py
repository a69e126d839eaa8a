"""Ray actors: thin shells that wire the services to Ray. Only here is Ray imported."""
