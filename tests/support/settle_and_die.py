"""Test support only (never imported by the application): run what `flask --app wsgi settle` runs, but SIGKILL
this process at the Nth off-session charge, either just before the provider is called (DIE_WHEN=before) or
right after the provider answered and before our commit (DIE_WHEN=after). DIE_AT=n (1-based).

The configuration comes from the environment like the real command's (CROWDFUND_ENV, DATABASE_URL,
STRIPE_SECRET_KEY, STRIPE_API_BASE, ...)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crowdfund import create_app
from crowdfund.cli_payments import run_settlement


class DyingGateway:
    """Pass every call through; kill the process around the DIE_AT-th off-session charge."""

    def __init__(self, inner: Any, when: str, at: int) -> None:
        self.inner, self.when, self.at, self.calls = inner, when, at, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs: Any) -> Any:
        self.calls += 1
        dying = self.calls == self.at
        if dying and self.when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            return self.inner.charge_off_session(**kwargs)
        finally:
            if dying:
                os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    app = create_app()
    app.extensions["payment_gateway"] = DyingGateway(
        app.extensions["payment_gateway"], os.environ["DIE_WHEN"], int(os.environ["DIE_AT"]))
    with app.app_context():
        print(run_settlement(app).summary())


if __name__ == "__main__":
    main()
