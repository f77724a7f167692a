"""Per-pledge "a charge is in flight" locks: held from the recorded attempt to the recorded outcome, across
commits, and released by the database when the holder dies (kill -9 included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LOCK_NAMESPACE = 0x4B53  # "KS": the first key of the two-key advisory lock; the second is the pledge id


class ChargeLocks:
    """Per-pledge "a charge is in flight" locks that outlive commits and die with the process.

    PostgreSQL: session-level advisory locks on a connection of their own (autocommit), so they are held
    from the claim to the recorded outcome and released by the server when the holder's connection drops
    (kill -9 included). SQLite has no such thing and serves one process only: every lock is granted."""

    def __init__(self, engine: Engine) -> None:
        self._conn: Connection | None = None
        if engine.dialect.name == "postgresql":
            self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def acquire(self, pledge_id: int) -> bool:
        """Take the lock without waiting; False if another worker holds it."""
        if self._conn is None:
            return True
        return bool(self._conn.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                                      {"ns": LOCK_NAMESPACE, "id": pledge_id}))

    def acquire_many(self, pledge_ids: list[int]) -> set[int]:
        """Try to take the locks of several pledges in one statement; return the ids now held."""
        if self._conn is None or not pledge_ids:
            return set(pledge_ids)
        stmt = text("SELECT t.id FROM unnest(CAST(:ids AS integer[])) AS t(id) WHERE pg_try_advisory_lock(:ns, t.id)")
        return set(self._conn.scalars(stmt, {"ns": LOCK_NAMESPACE, "ids": list(pledge_ids)}))

    def release_many(self, pledge_ids: list[int]) -> None:
        """Let go of several locks in one statement."""
        if self._conn is not None and pledge_ids:
            stmt = text("SELECT pg_advisory_unlock(:ns, t.id) FROM unnest(CAST(:ids AS integer[])) AS t(id)")
            self._conn.execute(stmt, {"ns": LOCK_NAMESPACE, "ids": list(pledge_ids)})

    def release(self, pledge_id: int) -> None:
        """Let go of one lock (after the outcome is committed)."""
        if self._conn is not None:
            self._conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": pledge_id})

    def close(self) -> None:
        """Let go of every lock still held (a run that stopped on an exception leaves some) and give the
        connection back; a connection that cannot be unlocked is thrown away, which ends its locks too."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            except Exception:
                self._conn.invalidate()
            self._conn.close()
            self._conn = None


@contextmanager
def charge_lock(engine: Engine, pledge_id: int) -> Iterator[bool]:
    """Hold one pledge's charge lock for a block (the backer's page); yields False if it is taken."""
    locks = ChargeLocks(engine)
    try:
        got = locks.acquire(pledge_id)
        try:
            yield got
        finally:
            if got:
                locks.release(pledge_id)
    finally:
        locks.close()
