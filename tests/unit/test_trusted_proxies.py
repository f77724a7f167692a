"""Behind a TLS reverse proxy (TRUSTED_PROXIES=1) the app sees the client's address and https from the
X-Forwarded-* headers; without it those headers are ignored (a client could otherwise forge its address)."""

from flask import request

from config import TestConfig
from crowdfund import create_app

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "crowd.example"}


def seen(trusted: str):
    app = create_app(TestConfig({"TRUSTED_PROXIES": trusted}))

    @app.get("/_seen")
    def _seen():
        return {"addr": request.remote_addr, "secure": request.is_secure, "host": request.host}

    try:
        return app.test_client().get("/_seen", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_json()
    finally:
        app.extensions["db_engine"].dispose()


def test_forwarded_headers_count_only_from_a_trusted_proxy():
    assert seen("1") == {"addr": "203.0.113.7", "secure": True, "host": "crowd.example"}
    assert seen("0") == {"addr": "127.0.0.1", "secure": False, "host": "localhost"}
