"""Error bodies say what went wrong in the PRIP's words: no source paths, no driver text."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from prip_ray import errors
from prip_ray.serve.errors import install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/typed")
    def typed(size: int) -> dict[str, int]:
        return {"size": size}

    @app.get("/misconfigured")
    def misconfigured() -> None:
        raise errors.ConfigurationError("cannot read /etc/prip/secret-key.pem")

    @app.get("/broken")
    def broken() -> None:
        raise KeyError("products.md5 in /srv/prip/store")

    return app


def test_validation_errors_name_the_parameter_not_the_source_file() -> None:
    answer = TestClient(_app()).get("/typed", params={"size": "big"})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "query/size" in message and ".py" not in message and "line" not in message


def test_our_own_5xx_and_unexpected_errors_say_nothing_of_their_cause() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    for path in ("/misconfigured", "/broken"):
        answer = client.get(path)
        assert answer.status_code == 500
        assert "/etc" not in answer.text and "/srv" not in answer.text, answer.text
        assert "operators have the details" in answer.json()["error"]["message"]
