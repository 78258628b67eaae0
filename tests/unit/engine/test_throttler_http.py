"""throttle-http against a local HTTP stub: HEAD status codes and connection errors."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.throttle.http import http_head_status
from django_ghost.engine.throttle.options import ThrottleOptions
from django_ghost.engine.throttle.throttler import RealThrottler


class Stub(http.server.BaseHTTPRequestHandler):
    status = 200
    methods: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802 (the http.server naming)
        Stub.methods.append(self.command)
        self.send_response(Stub.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def stub_url() -> Iterator[str]:
    Stub.status, Stub.methods = 200, []
    server = http.server.HTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/throttle"
    server.shutdown()
    server.server_close()
    thread.join()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_http_head_status__stub_answers__head_and_code(stub_url: str) -> None:
    assert http_head_status(stub_url, 2.0) == 200
    Stub.status = 429
    assert http_head_status(stub_url, 2.0) == 429
    assert Stub.methods == ["HEAD", "HEAD"]


def test_http_head_status__nothing_listening__oserror() -> None:
    with pytest.raises(OSError):
        http_head_status(f"http://127.0.0.1:{_closed_port()}/", 2.0)


def test_check__stub_429_then_200__throttled_then_released(stub_url: str) -> None:
    context = MigrationContext(GhostConfig(table="orders"))
    options = ThrottleOptions(throttle_additional_flag_file="", throttle_http_interval_millis=0)
    throttler = RealThrottler(context, options=options)
    context.knobs.throttle_http = stub_url
    Stub.status = 429
    assert throttler.check() == "throttle-http: status 429"
    Stub.status = 200
    assert throttler.check() is None


def test_check__url_without_scheme__throttled_as_connection_error() -> None:
    # gh-ost's doc says such a URL disables the check; its code throttles. We follow the code.
    context = MigrationContext(GhostConfig(table="orders"))
    throttler = RealThrottler(context, options=ThrottleOptions(throttle_additional_flag_file=""))
    context.knobs.throttle_http = "freno.local/check"
    assert throttler.check() == "freno: connection error"
