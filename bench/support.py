"""Helpers shared by the bench scripts: a free loopback port and a statement on the server's `postgres` database
(CREATE/DROP of the scratch databases). Imported as `bench.support` with the repository root on `sys.path`."""

from __future__ import annotations

import socket

import psycopg
from psycopg import sql

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def admin(server: str, statement: sql.Composable) -> None:
    """Run `statement` on `<server>/postgres` outside a transaction (CREATE / DROP DATABASE)."""
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)
