"""Session-wide fixtures: one PostgreSQL database, one S3 server, one Ray instance per run."""

pytest_plugins = [
    "tests.fixtures.components",
    "tests.fixtures.postgres",
    "tests.fixtures.ray_cluster",
    "tests.fixtures.s3",
]
