"""`make run`: start localstripe (unless real Stripe keys are set), migrate, seed the demo, serve.

localstripe starts first: `seed-demo` saves the demo backers' test cards there (SetupIntents confirmed at the
provider), so that `flask --app wsgi settle` charges the demo campaign that ended above its threshold.
Development only. Everything listens on 127.0.0.1; localstripe's state is kept in
instance/localstripe.pickle so the demo's saved cards survive a restart."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from payments.localstripe_admin import register_webhook, run_localstripe  # noqa: E402

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "5000")
LOCALSTRIPE_PORT = int(os.environ.get("LOCALSTRIPE_PORT", "8420"))
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def flask(*args: str, env: dict[str, str]) -> None:
    subprocess.run([*FLASK, *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def serve(env: dict[str, str]) -> None:
    flask("init-db", env=env)
    flask("seed-demo", env=env)
    print(f"\nServing on http://{HOST}:{PORT}  (Ctrl+C stops)\n", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        flask("run", "--host", HOST, "--port", PORT, env=env)


def main() -> None:
    load_dotenv(ROOT / ".env")
    env = dict(os.environ)
    if env.get("STRIPE_SECRET_KEY", "").startswith(("sk_test_", "sk_live_")) and not env.get("STRIPE_API_BASE"):
        print("Using the Stripe keys from the environment (no local stand-in).")
        serve(env)
        return
    instance = Path(env.get("INSTANCE_PATH", ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    with run_localstripe(LOCALSTRIPE_PORT, state_file=instance / "localstripe.pickle") as url:
        # Keys for the local stand-in only: it accepts any key and moves no money.
        env.update(STRIPE_SECRET_KEY="sk_test_localstripe", STRIPE_PUBLISHABLE_KEY="pk_test_localstripe",  # noqa: S106
                   STRIPE_API_BASE=url, STRIPE_WEBHOOK_SECRET="whsec_localstripe_dev")  # noqa: S106
        register_webhook(url, "crowdfund-dev", f"http://{HOST}:{PORT}/payments/stripe/webhook",
                         env["STRIPE_WEBHOOK_SECRET"])
        print(f"localstripe (offline Stripe stand-in) on {url}; pay with card 4242 4242 4242 4242, 12/34, 123")
        serve(env)


if __name__ == "__main__":
    main()
