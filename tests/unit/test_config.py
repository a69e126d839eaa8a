from pathlib import Path

import pytest

from prip_ray.config import load_settings, masked_url, settings_help
from prip_ray.errors import ConfigurationError


def test_embedded_default_lives_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.db_url == f"sqlite:///{tmp_path / 'prip.db'}"
    assert settings.inbox == tmp_path / "inbox"
    assert settings.store_root == tmp_path / "store"
    assert settings.store.kind == "local"


def test_environment_beats_file_and_overrides_beat_environment(tmp_path: Path) -> None:
    config = tmp_path / "prip.yaml"
    config.write_text(
        "ingest:\n  shards: 3\n  retention: 2d\nstore:\n  s3:\n    bucket: from-file\n"
    )
    environ = {"PRIP_STORE__S3__BUCKET": "from-env", "PRIP_RETENTION": "5d"}
    settings = load_settings(config, environ=environ, data_dir=tmp_path)
    assert settings.ingest.shards == 3
    assert settings.ingest.retention == "5d"  # the flat name ranks with the environment
    assert settings.store.s3.bucket == "from-env"
    environ["PRIP_INGEST__RETENTION"] = "7d"  # ... below the nested one
    assert load_settings(config, environ=environ).ingest.retention == "7d"
    moved = load_settings(config, environ=environ, data_dir=Path("/elsewhere"))
    assert moved.data_dir == Path("/elsewhere")
    assert load_settings(config, environ=environ, ingest={"shards": 4}).ingest.shards == 4


def test_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIP_API__PORT", "9123")
    assert load_settings(data_dir=tmp_path).api.port == 9123
    assert load_settings(data_dir=tmp_path, environ={}).api.port != 9123


def test_environment_values_are_parsed_as_pydantic_settings_does(tmp_path: Path) -> None:
    environ = {"prip_db__pool_size": "7", "PRIP_API__TRUSTED_PROXIES": '["10.0.0.0/8"]'}
    settings = load_settings(environ=environ, data_dir=tmp_path)
    assert settings.db.pool_size == 7  # names are case-insensitive
    assert settings.api.trusted_proxies == ["10.0.0.0/8"]  # a list, from JSON
    with pytest.raises(ConfigurationError):
        load_settings(environ={"PRIP_DB__POOL_SIZE": "many"})


def test_toml_config_file(tmp_path: Path) -> None:
    config = tmp_path / "prip.toml"
    config.write_text('[api]\nport = 9000\n[db]\nurl = "postgresql://prip@db/prip"\n')
    settings = load_settings(config)
    assert settings.api.port == 9000
    assert settings.db_url == "postgresql://prip@db/prip"


@pytest.mark.parametrize(
    "content", ["ingest:\n  shards: 0\n", "nonsense: 1\n", "- a list\n", "ingest: [unclosed\n"]
)
def test_bad_config_is_a_configuration_error(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    with pytest.raises(ConfigurationError):
        load_settings(config)


def test_help_lists_every_setting_as_an_environment_variable() -> None:
    text = settings_help()
    for name in ("PRIP_DATA_DIR", "PRIP_DB__URL", "PRIP_STORE__S3__ENDPOINT_URL", "PRIP_API__PORT"):
        assert name in text


def test_oidc_issuer_without_audience_is_refused(tmp_path: Path) -> None:
    environ = {"PRIP_AUTH__OIDC__ISSUER": "https://kc.example.org/realms/copernicus"}
    with pytest.raises(ConfigurationError, match=r"auth\.oidc\.audience .* is required"):
        load_settings(environ=environ, data_dir=tmp_path)
    environ["PRIP_AUTH__OIDC__AUDIENCE"] = "prip"
    assert load_settings(environ=environ, data_dir=tmp_path).auth.oidc.audience == "prip"


def test_allowed_networks_from_the_environment_and_a_bad_one_named(tmp_path: Path) -> None:
    assert load_settings(environ={}, data_dir=tmp_path).subscriptions.allowed_networks == []
    environ = {"PRIP_SUBSCRIPTIONS__ALLOWED_NETWORKS": '["127.0.0.0/8", "fd00::/8"]'}
    allowed = load_settings(environ=environ, data_dir=tmp_path).subscriptions.allowed_networks
    assert allowed == ["127.0.0.0/8", "fd00::/8"]
    environ["PRIP_SUBSCRIPTIONS__ALLOWED_NETWORKS"] = '["intranet"]'
    with pytest.raises(ConfigurationError, match="'intranet' is not an IP network"):
        load_settings(environ=environ, data_dir=tmp_path)


def test_catalogue_retentions_come_from_the_environment(tmp_path: Path) -> None:
    defaults = load_settings(environ={}, data_dir=tmp_path).roller
    assert (defaults.offline_retention, defaults.deleted_retention) == ("3d", "30d")
    environ = {"PRIP_ROLLER__OFFLINE_RETENTION": "12h", "PRIP_ROLLER__DELETED_RETENTION": "never"}
    roller = load_settings(environ=environ, data_dir=tmp_path).roller
    assert (roller.offline_retention, roller.deleted_retention) == ("12h", "never")
    environ["PRIP_ROLLER__OFFLINE_RETENTION"] = "three days"
    with pytest.raises(ConfigurationError):
        load_settings(environ=environ, data_dir=tmp_path)


def test_event_and_quarantine_retentions_come_from_the_environment(tmp_path: Path) -> None:
    defaults = load_settings(environ={}, data_dir=tmp_path)
    assert (defaults.roller.events_retention, defaults.ingest.quarantine_retention) == (
        "7d",
        "30d",
    )
    environ = {
        "PRIP_ROLLER__EVENTS_RETENTION": "2d",
        "PRIP_INGEST__QUARANTINE_RETENTION": "never",
    }
    settings = load_settings(environ=environ, data_dir=tmp_path)
    assert (settings.roller.events_retention, settings.ingest.quarantine_retention) == (
        "2d",
        "never",
    )
    for name in environ:
        with pytest.raises(ConfigurationError):
            load_settings(environ={**environ, name: "a week"}, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://prip:s3cr%40t@db:5432/prip", "postgresql://prip:***@db:5432/prip"),
        (
            "postgresql://u@h/db?password=s3cret&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql+psycopg://:s3cret@h/db", "postgresql+psycopg://:***@h/db"),
        ("postgresql://prip@db/prip", "postgresql://prip@db/prip"),
        ("sqlite:////var/prip/prip.db", "sqlite:////var/prip/prip.db"),
    ],
)
def test_database_passwords_are_masked(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_settings_and_the_up_summary_never_show_the_database_password(tmp_path: Path) -> None:
    from prip_ray.ingress import IngressChoice
    from prip_ray.runtime import where_things_are

    served = IngressChoice("serve", "api.ingress = serve")
    settings = load_settings(data_dir=tmp_path, db={"url": "postgresql://prip:hunter2@db/prip"})
    for text in (
        repr(settings),
        str(settings),
        repr(settings.db),
        *where_things_are(settings, "u", [], served),
    ):
        assert "hunter2" not in text
    assert "database:   postgresql://prip:***@db/prip" in where_things_are(
        settings, "u", [], served
    )
    assert settings.db_url == "postgresql://prip:hunter2@db/prip"  # what the engine gets


def test_an_s3_inbox_uses_the_stores_endpoint_unless_it_has_its_own(tmp_path: Path) -> None:
    environ = {
        "PRIP_STORE__S3__ENDPOINT_URL": "http://store:8333",
        "PRIP_STORE__S3__ACCESS_KEY_ID": "prip",
        "PRIP_STORE__S3__PREFIX": "products/",
        "PRIP_INGEST__INBOX": "s3://drops/s2",
    }
    settings = load_settings(environ=environ, data_dir=tmp_path)
    inbox = settings.inbox_s3
    assert inbox is not None
    assert (inbox.bucket, inbox.prefix) == ("drops", "s2/")
    assert (inbox.endpoint_url, inbox.access_key_id) == ("http://store:8333", "prip")
    assert settings.inbox_quarantine_prefix == "s2/quarantine/"
    assert settings.inbox == tmp_path / "inbox"  # the folder a retried refusal goes to

    environ["PRIP_INGEST__INBOX_S3__ENDPOINT_URL"] = "http://producer:9000"
    environ["PRIP_INGEST__INBOX_S3__QUARANTINE_PREFIX"] = "refused"
    own = load_settings(environ=environ, data_dir=tmp_path)
    assert own.inbox_s3 is not None and own.inbox_s3.endpoint_url == "http://producer:9000"
    assert own.inbox_s3.access_key_id == "prip"  # still the store's where not its own
    assert own.inbox_quarantine_prefix == "refused/"


def test_a_folder_inbox_stays_a_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={"PRIP_INGEST__INBOX": str(tmp_path / "in")})
    assert settings.inbox == tmp_path / "in" and settings.inbox_s3 is None
