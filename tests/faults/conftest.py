"""Fault injection: a private throwaway PostgreSQL cluster that a test may restart, and a TCP proxy in front of
the payment provider that a test can make refuse connections, hang, or hold its answers back.

The shared PostgreSQL server (TEST_DATABASE_URL) is never restarted: other test runs use it."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


# --- a PostgreSQL cluster of the test's own ---------------------------------------------------------------
def postgres_bindir() -> Path:
    """The directory with initdb and pg_ctl: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin."""
    candidates = [os.environ["PG_BINDIR"]] if os.environ.get("PG_BINDIR") else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    pytest.fail("The PostgreSQL restart tests need the server binaries initdb and pg_ctl (Debian: "
                "apt-get install postgresql-15, or set PG_BINDIR); none found in "
                f"{candidates or '/usr/lib/postgresql/*/bin'}.")


def _postgres_user() -> pwd.struct_passwd:
    """initdb refuses to run as root: as root, the cluster belongs to the `postgres` OS user (runuser)."""
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("Run as root, the PostgreSQL restart tests need the `postgres` OS user (initdb refuses root).")
    if shutil.which("runuser") is None:
        pytest.fail("Run as root, the PostgreSQL restart tests need `runuser` (util-linux) to become `postgres`.")
    return user


class PrivatePostgres:
    """A cluster in a temporary directory on a free loopback port (as the `postgres` OS user when run as root:
    initdb refuses root). fsync is off: the data is thrown away afterwards."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="crowdfund-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.owner = _postgres_user() if os.getuid() == 0 else None
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8",
                      "--locale=C.UTF-8")
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        self.options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c full_page_writes=off -c synchronous_commit=off -c max_connections=40")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}\n{log[-2000:]}")

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-l", str(self.log), *args)

    def start(self) -> None:
        self._ctl("-o", self.options, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every backend is terminated, open transactions are rolled back."""
        self._ctl("-m", "fast", "-o", self.options, "restart")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private cluster (about 2 s to create); stopped and deleted afterwards."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# --- the payment provider behind a switchable proxy ---------------------------------------------------------
class ProviderProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream` (host, port).

    Modes: `forward`; `down` (the port is closed: connection refused); `hang` (connections are accepted and
    never answered, nothing reaches the provider); `slow` (requests reach the provider, its answers are held
    back `delay` seconds, longer than the client's timeout). Switching mode cuts every open connection."""

    def __init__(self, upstream: tuple[str, int], delay: float = 30.0) -> None:
        self.upstream, self.delay = upstream, delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "forward"
        self.accepted = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener: socket.socket | None = None
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def set_mode(self, mode: str) -> None:
        assert mode in ("forward", "down", "hang", "slow"), mode
        with self._lock:
            was_down, self.mode = self.mode == "down", mode
            sockets, self._sockets = self._sockets, set()
            listener = self._listener
        for sock in sockets:
            _close(sock)
        if mode == "down":
            if listener is not None:
                self._listener = None
                _close(listener)
        elif was_down:
            self._listen()

    def close(self) -> None:
        self._closed.set()
        self.set_mode("down")

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed: mode `down`
            self.accepted += 1
            self._track(client)
            threading.Thread(target=self._serve, args=(client, self.mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "hang":
            _drain(client)
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        threading.Thread(target=_pump, args=(client, upstream, 0.0), daemon=True).start()
        _pump(upstream, client, self.delay if mode == "slow" else 0.0)


def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    try:
        while data := source.recv(65536):
            if delay:
                time.sleep(delay)  # the client has given up by now; what is sent later goes nowhere
            target.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(target)


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def provider_proxy(localstripe: str) -> Iterator[ProviderProxy]:
    """A proxy in front of the session's localstripe (wiped after the test), starting in mode `forward`."""
    host, port = localstripe.removeprefix("http://").split(":")
    proxy = ProviderProxy((host, int(port)))
    yield proxy
    proxy.close()
