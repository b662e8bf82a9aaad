"""Rasa's SQL tracker store, with the trackers this Rasa server last read or wrote kept in
memory and checked against the database before each use.

Rasa 3.6's SQLTrackerStore rebuilds the whole session from its rows on every turn (a query,
a JSON parse and a replay per event) and counts the stored rows again before each save:
measured under `make bench` with PostgreSQL, a third of the Rasa server's CPU, done with a
blocking driver inside its event loop. Here a turn costs two round trips on PostgreSQL:
one indexed `max(id)` query to check the remembered tracker, and one statement that inserts
the events added since only if the sender's newest row is still the one remembered (each
statement its own transaction: no BEGIN, COMMIT or ROLLBACK round trips; the insert is
committed, and as durable, as in a transaction). Before, a turn took nine (a pre-ping and a
transaction around each). Built once: Rasa's ORM queries and flushes, rebuilt per call, cost
more CPU than the round trips themselves.

Connections survive a restart of PostgreSQL: Rasa's engine hands out pooled connections
unchecked, so after a restart the first query on each one failed its turn. Here a query that
fails because its connection was dead is run again: SQLAlchemy has then discarded every
connection of that pool made before the failure, so the next try gets a new one. Cheaper than checking
each connection as it leaves the pool (`pool_pre_ping`, a round trip per checkout), and safe
because every step is safe to repeat (a save repeated after a lost answer finds the newest
row changed and falls back to Rasa's count of the stored events).

The database stays the truth. A remembered tracker is used only when
- the sender's newest row in the database is still the one it was remembered with (so no
  other Rasa server wrote to this conversation since, and no erasure deleted its rows), and
- it holds exactly the events it was remembered with (a turn that failed before saving
  leaves unsaved events on it, and it is dropped).
Otherwise the session is loaded from the database as Rasa does. Events are only ever
appended to a tracker, and event ids only grow, which is what makes these checks enough.

Events are encrypted at rest with the key ring of the app's personal data
(integrations/rasa/event_crypto.py); rows written in plain JSON before that still read.

Configured as the tracker store type
`integrations.rasa.engine.tracker_store.CachedSQLTrackerStore` with the keys of Rasa's `SQL`
type (server.py writes it from RASA_TRACKER_STORE_URL).
"""

from __future__ import annotations

import functools
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from integrations.keyring import KeyRing
from integrations.rasa.engine.settings import EngineSettings
from integrations.rasa.event_crypto import seal, unseal

# Trackers remembered per Rasa server. A session holds at most ~120 events
# (server_tuning.MAX_SESSION_EVENTS); measured with tracemalloc, a 120-event tracker takes
# about 170 KB, so at most ~340 MB next to the ~1.1 GB a Rasa server needs anyway.
TRACKERS_REMEMBERED = 2000

T = TypeVar("T")
# The pools a turn may find dead after a PostgreSQL restart: the autocommit one and Rasa's.
DEAD_POOLS = 2


@dataclass
class _Remembered:
    tracker: DialogueStateTracker
    length: int  # how many of the tracker's events the database holds
    newest_id: int  # the sender's newest row when it was remembered
    domain: Any  # a new model brings a new domain, and slots built from it


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that skips reloading a session it already holds (module docstring)."""

    def __init__(self, *args: Any, keyring: KeyRing | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa builds the store from endpoints.yml alone: the keys come from the environment,
        # where the same settings give the gateway the same keys (settings.py).
        self.keyring = keyring or EngineSettings.from_environment(os.environ).keyring
        # The same engine as Rasa's (a dead connection is replaced on a retry: _retrying).
        rasas: Any = getattr(self, "engine")  # noqa: B009  (Rasa's attribute, untyped)
        url = rasas.url
        engine = sa.create_engine(url, **create_engine_kwargs(url))
        rasas.dispose()
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine)
        # One statement, one transaction: psycopg2 sends no BEGIN, and returning the
        # connection to the pool costs no ROLLBACK. A pool of its own, in autocommit from
        # connect: switching a pooled connection to autocommit and back per use (SQLAlchemy's
        # `execution_options(isolation_level=...)`) costs psycopg2 a SET round trip each way.
        self._autocommit = sa.create_engine(
            url, isolation_level="AUTOCOMMIT", **create_engine_kwargs(url)
        )
        self._postgresql = engine.dialect.name == "postgresql"

    @property
    def _remembered(self) -> OrderedDict[str, _Remembered]:
        # Created on first use: Rasa builds tracker stores from the arguments of
        # SQLTrackerStore.__init__, which this class keeps as they are.
        if "_trackers" not in self.__dict__:
            self.__dict__["_trackers"] = OrderedDict()
        trackers: OrderedDict[str, _Remembered] = self.__dict__["_trackers"]
        return trackers

    @functools.cached_property
    def _newest_id_query(self) -> Any:
        # Built once, in SQLAlchemy Core: an ORM query rebuilt per call cost more CPU than
        # the round trip (py-spy under `make bench`).
        events = self.SQLEvent.__table__
        return sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )

    def _newest_id(self, session: Any, sender_id: str) -> int | None:
        newest = session.execute(self._newest_id_query, {"sender_id": sender_id}).scalar()
        return int(newest) if newest is not None else None

    @functools.cached_property
    def _append_query(self) -> Any:
        # The rows as arrays, so the statement is the same text whatever their number (a
        # VALUES list would be compiled anew per count). Ids follow the arrays' order.
        table = self.SQLEvent.__table__
        name = self.engine.dialect.identifier_preparer.format_table(table)
        return sa.text(
            f"INSERT INTO {name} (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "SELECT :sender_id, t, ts, i, a, d FROM unnest("
            "CAST(:type_names AS varchar[]), CAST(:timestamps AS float8[]), "
            "CAST(:intent_names AS varchar[]), CAST(:action_names AS varchar[]), "
            "CAST(:datas AS text[])) WITH ORDINALITY AS rows (t, ts, i, a, d, n) "
            f"WHERE (SELECT max(id) FROM {name} WHERE sender_id = :sender_id) = :newest_id "
            "ORDER BY n RETURNING id"
        )

    def _append_if_unchanged(
        self, sender_id: str, newest_id: int, rows: list[dict[str, Any]]
    ) -> int | None:
        """Inserts `rows` if the sender's newest row is still `newest_id`, in one statement;
        the newest id written, or None when another writer (a server, an erasure) came first
        and nothing was written."""
        parameters = {
            "sender_id": sender_id,
            "newest_id": newest_id,
            "type_names": [row["type_name"] for row in rows],
            "timestamps": [row["timestamp"] for row in rows],
            "intent_names": [row["intent_name"] for row in rows],
            "action_names": [row["action_name"] for row in rows],
            "datas": [row["data"] for row in rows],
        }
        with self._autocommit.connect() as connection:
            ids = connection.execute(self._append_query, parameters).scalars().all()
        return int(max(ids)) if ids else None

    def _newest_id_now(self, sender_id: str) -> int | None:
        """The sender's newest row id, in a statement of its own (no transaction around)."""
        with self._autocommit.connect() as connection:
            newest = connection.execute(self._newest_id_query, {"sender_id": sender_id}).scalar()
        return int(newest) if newest is not None else None

    def _retrying(self, work: Callable[[], T]) -> T:
        """`work`, run again if it failed on a connection PostgreSQL had closed (a restart,
        a cut): SQLAlchemy has then discarded that pool's older connections. Once per pool
        (the autocommit one and Rasa's), so at most twice."""
        for _ in range(DEAD_POOLS):
            try:
                return work()
            except sa.exc.DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
        return work()

    def _current(self, sender_id: str, newest_id: int | None) -> _Remembered | None:
        """The remembered entry if the database has not changed since it was remembered."""
        entry = self._remembered.get(sender_id)
        if (
            entry is None
            or newest_id is None
            or entry.newest_id != newest_id
            or entry.domain is not self.domain
        ):
            return None
        return entry

    def _remember(self, tracker: DialogueStateTracker, newest_id: int) -> None:
        sender_id = tracker.sender_id
        self._remembered[sender_id] = _Remembered(
            tracker, len(tracker.events), newest_id, self.domain
        )
        self._remembered.move_to_end(sender_id)
        while len(self._remembered) > TRACKERS_REMEMBERED:
            self._remembered.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        self._remembered.pop(sender_id, None)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session of `sender_id`, as Rasa's SQLTrackerStore returns it."""
        return self._retrying(lambda: self._latest(sender_id))

    def _latest(self, sender_id: str) -> DialogueStateTracker | None:
        entry = self._current(sender_id, self._newest_id_now(sender_id))
        # Events added since were never saved (that turn failed): not the truth.
        if entry is not None and len(entry.tracker.events) == entry.length:
            self._remembered.move_to_end(sender_id)
            return entry.tracker
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            if not rows or not self.domain:
                self.forget(sender_id)
                return None
            events = [unseal(self.keyring, row.data) for row in rows]
            newest_id = rows[-1].id  # rows come ordered by id
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._remember(tracker, newest_id)
        return tracker

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's, for every session (`retrieve_full_tracker`), reading sealed events."""

        def load() -> list[Any]:
            with self.session_scope() as session:
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
                return [unseal(self.keyring, row.data) for row in query.all()]

        events = self._retrying(load)
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the events the database does not hold yet, as Rasa's save does."""
        await self.stream_events(tracker)
        if not self._retrying(lambda: self._append(tracker)):
            self._retrying(lambda: self._save_in_a_transaction(tracker))

    def _append(self, tracker: DialogueStateTracker) -> bool:
        """The usual turn on PostgreSQL: this server retrieved the tracker and added events to
        it; they are written in one statement unless another writer came first. False when
        this does not apply or another writer came first (nothing written then)."""
        sender_id = tracker.sender_id
        entry = self._remembered.get(sender_id)
        if (
            not self._postgresql
            or entry is None
            or entry.tracker is not tracker
            or entry.domain is not self.domain
        ):
            return False
        new_events = list(tracker.events)[entry.length :]
        if not new_events:
            return True  # nothing to write; the next retrieve checks the database anyway
        rows = [self._row(self.keyring, sender_id, e) for e in new_events]
        newest_id = self._append_if_unchanged(sender_id, entry.newest_id, rows)
        if newest_id is None:
            return False
        # A session started in this turn: retrieve returns the latest session only, so the
        # next one loads it instead of keeping the old session's events.
        if any(isinstance(event, SessionStarted) for event in new_events):
            self.forget(sender_id)
        else:
            self._remember(tracker, newest_id)
        return True

    def _save_in_a_transaction(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            newest_id = self._newest_id(session, sender_id)
            entry = self._current(sender_id, newest_id)
            if entry is not None and entry.tracker is tracker:
                # Only this server's turn has written to this tracker since it was remembered.
                new_events = list(tracker.events)[entry.length :]
                known = not any(isinstance(event, SessionStarted) for event in new_events)
            else:
                new_events = list(self._additional_events(session, tracker))
                known = False
            if new_events:
                rows = [self._row(self.keyring, sender_id, e) for e in new_events]
                newest_id = self._insert(session, rows)
            session.commit()
        if known and newest_id is not None:
            self._remember(tracker, newest_id)
        else:
            # Rasa's own rule decided what was new; whether the database now holds exactly
            # this tracker's events is not known here. The next retrieve loads it.
            self.forget(sender_id)

    def _insert(self, session: Any, rows: list[dict[str, Any]]) -> int | None:
        """Inserts the rows in one statement (Core: no ORM flush); the newest id it wrote."""
        events = self.SQLEvent.__table__
        if session.bind.dialect.name == "postgresql":
            ids = session.execute(events.insert().values(rows).returning(events.c.id)).scalars()
            return int(max(ids))
        # SQLite (tests) has no RETURNING here; the conversation's turns are serialised
        # (Rasa's lock), so the newest row is ours.
        session.execute(events.insert(), rows)
        return self._newest_id(session, rows[0]["sender_id"])

    @staticmethod
    def _row(keyring: KeyRing, sender_id: str, event: Any) -> dict[str, Any]:
        # The same row as SQLTrackerStore.save writes, its event sealed.
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": seal(keyring, data),
        }
