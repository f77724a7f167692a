"""Run localstripe, the offline Stripe stand-in, on loopback: `python -m payments.localstripe_server --port 8420`.

localstripe is GPL software: it runs as a separate process started through this launcher, and this is the only
module of the project that imports it. The stock `localstripe` command binds every interface and pickles its
whole store to a fixed file in the temp folder on every write; this launcher binds a loopback address only and
keeps the store in memory, or, with `--state-file`, saves it to a file of your choice at most once a second and
at shutdown (for the demo, so that `make run` keeps its pledges across restarts). It also indexes refunds by
charge (`index_refunds`), so that requests do not get slower with every object stored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import pickle
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

SAVE_INTERVAL_SECONDS = 1.0


def is_loopback(host: str) -> bool:
    """Tell whether `host` names a loopback address; only those are served."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; refuse any host that is not a loopback address."""
    parser = argparse.ArgumentParser(prog="python -m payments.localstripe_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCALSTRIPE_PORT", "8420")))
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--state-file", type=Path, default=None, help="pickle the store here (default: memory only)")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"refusing to bind {args.host!r}: localstripe has no authentication, use a loopback address")
    return args


def save_store(store: dict[str, Any], path: Path) -> None:
    """Write the store atomically: a crash mid-write leaves the previous file intact."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_store(store: dict[str, Any], path: Path) -> None:
    """Fill the store from `path` if it exists (a file this launcher wrote: pickle is trusted here)."""
    if path.exists():
        with path.open("rb") as f:
            store.update(pickle.load(f))  # noqa: S301 - our own file, written by save_store


class _Saver:
    """Batch the store's writes: save at most once per interval and once more at shutdown."""

    def __init__(self, store: dict[str, Any], path: Path) -> None:
        self.store, self.path, self.dirty = store, path, False

    def mark_dirty(self) -> None:
        """Note a change; localstripe calls this (as `dump_to_disk`) on every write."""
        self.dirty = True

    def flush(self) -> None:
        """Save the store if it changed since the last save."""
        if self.dirty:
            self.dirty = False
            save_store(self.store, self.path)

    async def run(self, _app: Any) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(SAVE_INTERVAL_SECONDS)
                self.flush()

        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.flush()


def index_refunds(resources: Any) -> None:
    """Answer `Charge.refunds` from an index by charge id instead of a scan of the whole store.

    Every PaymentIntent and Charge localstripe returns embeds its charge's refunds, which the stock code finds by
    scanning every stored object, six times per PaymentIntent: each create and each page of a listing got slower
    with every object stored (a page of 100 PaymentIntents took 0.7 s with 1,000 stored). Same answers.
    """
    by_charge: dict[str, list[Any]] = defaultdict(list)
    for obj in list(resources.store.values()):
        if isinstance(obj, resources.Refund):
            by_charge[obj.charge].append(obj)
    original_init = resources.Refund.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        by_charge[self.charge].append(self)

    def refunds(self: Any) -> Any:
        live = [r for r in by_charge.get(self.id, ()) if resources.store.get("refund:" + r.id) is r]
        by_charge[self.id] = live  # forget refunds deleted by DELETE /_config/data
        listing = resources.List("/v1/charges/" + self.id + "/refunds")
        listing._list = sorted(live, key=lambda r: r.date, reverse=True)
        return listing

    resources.Refund.__init__ = init
    resources.Charge.refunds = property(refunds)


def build_app(state_file: Path | None) -> Any:
    """Import localstripe's aiohttp app with its disk writes replaced by ours (or none)."""
    # Imported here, not at module level: importing this module must not load the GPL server.
    from localstripe import resources
    from localstripe.server import app

    if state_file is None:
        resources.Store.dump_to_disk = lambda self: None
        index_refunds(resources)
        return app
    state_file.parent.mkdir(parents=True, exist_ok=True)
    load_store(resources.store, state_file)
    index_refunds(resources)
    saver = _Saver(resources.store, state_file)
    resources.Store.dump_to_disk = lambda self: saver.mark_dirty()
    app.cleanup_ctx.append(saver.run)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve localstripe on a loopback address until SIGINT or SIGTERM."""
    import aiohttp.web

    args = parse_args(argv)
    app = build_app(args.state_file)
    print(f"localstripe on http://{args.host}:{args.port}", flush=True)
    aiohttp.web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
