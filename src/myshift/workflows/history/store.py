"""``History``: read and write the apply history on one server, mirrored to the audit log.

Crash safety: ``statement_started`` inserts and commits the statement's row
*before* the statement runs, so after a ``kill -9`` the history shows
``running`` on exactly the statement that was in flight.  For that the
history needs its OWN autocommit connection — never the DDL session, whose
implicit commits and failures must not decide what the history says.  Use
``History.open(endpoint)`` to get one.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from myshift import __version__
from myshift.db.connect import (
    Conn,
    DriverError,
    DriverInterfaceError,
    Endpoint,
    connect,
    quote_ident,
    redact_url,
)
from myshift.engine.introspect.heldcatalog import tables_present_sql
from myshift.errors import UnsupportedError, UsageError
from myshift.model.serialize import schema_from_json, schema_to_json
from myshift.workflows.history.records import (
    DEFAULT_AUDIT_PATH,
    DEFAULT_SCHEMA,
    ApplyDetail,
    ApplyKind,
    ApplyOutcome,
    ApplyRecord,
    HistoryError,
    StatementOutcome,
    StatementRecord,
)
from myshift.workflows.history.tables import APPLY_COLS, LAYOUT_VERSION, history_ddl

if TYPE_CHECKING:
    from myshift.model import Schema

_KINDS = ("apply", "rollback", "rehearsal")
_TABLES = ("applies", "statements", "layout")
# Added later; older histories lack it until the next apply (``ensure``) creates it.
_OPTIONAL = ("after_snapshots",)
_APPLY_OUTCOMES = ("running", "ok", "failed", "interrupted")
_STATEMENT_OUTCOMES = ("running", "ok", "failed")

# Sentinel: "use the default audit path" (None means "no audit log").
_DEFAULT: Any = object()

_T = TypeVar("_T")
# Lost sessions: gone away, lost during query, killed, server shutting down.
_LOST_CODES = (2003, 2006, 2013, 2055, 1927, 1053)
_PRIVILEGE_ERRORS = (1044, 1045, 1142, 1143, 1227, 1370)


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, DriverInterfaceError):
        return True
    return bool(exc.args) and exc.args[0] in _LOST_CODES


def _now() -> datetime:
    # Naive UTC: DATETIME(6) has no zone; every timestamp here is UTC.
    return datetime.now(UTC).replace(tzinfo=None)


def _operator_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return os.environ.get("USER", "unknown")


def operator() -> str:
    """``user@host`` of this process, as ``begin_apply`` records it by default."""
    return f"{_operator_user()}@{socket.gethostname()}"


class History:
    """Read and write the apply history on one server, mirrored to the audit log.

    ``conn`` must be a connection dedicated to the history (autocommit),
    not the session that runs the DDL.
    """

    def __init__(
        self,
        conn: Conn,
        schema: str = DEFAULT_SCHEMA,
        audit_path: Path | str | None = _DEFAULT,
    ) -> None:
        self._conn = conn
        self.schema = schema
        if audit_path is _DEFAULT:
            audit_path = DEFAULT_AUDIT_PATH
        self.audit_path = Path(audit_path).resolve() if audit_path is not None else None
        self._ready = False
        self._q = quote_ident(schema)
        # Every write must be durable before the caller goes on (see module doc).
        conn.raw.autocommit(True)

    @classmethod
    def open(
        cls,
        endpoint: Endpoint,
        schema: str = DEFAULT_SCHEMA,
        audit_path: Path | str | None = _DEFAULT,
    ) -> History:
        """A History on its own new connection to ``endpoint``'s server."""
        return cls(connect(endpoint, schema=""), schema, audit_path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _server(self) -> str:
        ep = self._conn.endpoint
        return ep.with_schema("").redacted()

    def _fail(self, exc: DriverError, doing: str) -> HistoryError:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        msg = str(exc.args[1]) if len(exc.args) > 1 and exc.args[1] else ""
        where = f"the apply history in schema {self.schema!r} on {self._server()}"
        if _lost(exc):
            return HistoryError(
                f"Cannot {doing} {where}: lost the connection to the server "
                f"({msg or 'the connection was already closed'}).",
                "Check that the server is up and reachable (its error log says why it went "
                "away); the next apply or rollback marks an unfinished apply interrupted.",
            )
        if code in _PRIVILEGE_ERRORS:
            return HistoryError(
                f"Cannot {doing} {where}: {msg}.",
                f"Grant CREATE, SELECT, INSERT, UPDATE on {self._q}.* to the user, "
                "or set history_schema in myshift.toml.",
            )
        return HistoryError(
            f"Cannot {doing} {where}: server error {code}: {msg or exc}.",
            "Fix the cause the server names and run again.",
        )

    def _retry(self, run: Callable[[], _T]) -> _T:
        """Run ``run``; once more on a fresh session when the history session was lost.

        The history session idles while a long ALTER runs, and the server's
        wait_timeout may close it: that must not turn an ALTER that succeeded
        into an apply reported as failed.
        """
        try:
            return run()
        except DriverError as exc:
            if not _lost(exc):
                raise
            raw = self._conn.raw
            with contextlib.suppress(Exception):  # already broken: closing may fail too
                raw.close()
            try:
                raw.connect()  # same parameters and init command, autocommit as set
            except (DriverError, OSError):
                raise exc from None
            return run()

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        self.ensure()

        def run() -> int:
            with self._conn.raw.cursor() as cur:
                cur.execute(sql, args)
                return int(cur.lastrowid or 0)

        try:
            return self._retry(run)
        except DriverError as exc:
            raise self._fail(exc, "write") from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            with self._conn.raw.cursor() as cur:
                cur.execute(sql.format(q=self._q), args)
                return list(cur.fetchall())

        try:
            return self._retry(run)
        except DriverError as exc:
            raise self._fail(exc, "read") from None

    def _exists(self) -> bool:
        if self._ready:
            return True
        sql, args = tables_present_sql(self.schema, _TABLES)
        n = self._read(sql, args)[0][0]
        if int(n) < len(_TABLES):
            # Tables we may not read are not listed either: without SELECT the
            # history looks empty.  The server refuses this (1142) rather than
            # say "no such table" (1146) when the privilege is what is missing.
            try:
                self._conn.query(f"SELECT 1 FROM {self._q}.`applies` LIMIT 0")
            except DriverError as exc:
                if exc.args and exc.args[0] in _PRIVILEGE_ERRORS:
                    raise self._fail(exc, "read") from None
        return int(n) == len(_TABLES)

    def _has(self, *names: str) -> bool:
        sql, args = tables_present_sql(self.schema, names)
        return int(self._read(sql, args)[0][0]) == len(names)

    def ensure(self) -> None:
        """Create the history schema and tables on first use; check the layout version."""
        if self._ready:
            return
        try:
            # No DDL when the tables are there: a CREATE ... IF NOT EXISTS still
            # waits for DDL locks (a backup's BACKUP STAGE BLOCK_DDL, FTWRL).
            if not self._exists() or not self._has(*_OPTIONAL):
                for stmt in history_ddl(self.schema):
                    self._conn.execute(stmt)
            self._conn.execute(
                f"INSERT IGNORE INTO {self._q}.`layout` VALUES (1, %s, %s)",
                (LAYOUT_VERSION, _now()),
            )
            version = int(self._conn.scalar(f"SELECT version FROM {self._q}.`layout` WHERE id = 1"))
        except DriverError as exc:
            raise self._fail(exc, "create") from None
        if version > LAYOUT_VERSION:
            raise UnsupportedError(
                f"The history in schema {self.schema!r} on {self._server()} has layout "
                f"v{version}, newer than this myshift {__version__} understands "
                f"(v{LAYOUT_VERSION}).",
                "Upgrade myshift.",
            )
        self._ready = True

    def _audit(self, event: str, **data: Any) -> None:
        if self.audit_path is None:
            return
        line = {
            "ts": _now().isoformat() + "Z",
            "event": event,
            "server": self._server(),
            "history_schema": self.schema,
            **data,
        }
        text = json.dumps(line, sort_keys=True, default=str, ensure_ascii=False) + "\n"
        self._append_audit(text)

    def _append_audit(self, text: str) -> None:
        if self.audit_path is None:
            return
        try:
            self.audit_path.parent.mkdir(parents=True, exist_ok=True)
            with self.audit_path.open("a", encoding="utf-8") as f:
                if text:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as exc:
            raise UsageError(
                f"Cannot write the audit log {self.audit_path}: {exc.strerror or exc}.",
                "Fix the path or its permissions (audit_log in myshift.toml).",
            ) from None

    # ------------------------------------------------------------------ writes

    def begin_apply(
        self,
        *,
        kind: ApplyKind | str,
        target_schema: str,
        plan_hash: str | None = None,
        from_fingerprint: str | None = None,
        to_fingerprint: str | None = None,
        snapshot: Schema | None = None,
        target: Endpoint | str | None = None,
        undoes_apply_id: int | None = None,
        notes: Mapping[str, Any] | None = None,
        operator_user: str | None = None,
        operator_host: str | None = None,
        tool_version: str | None = None,
    ) -> int:
        """Record that an apply starts (outcome ``running``); returns its id.

        ``snapshot`` is the target's model *before* the apply (for rollback).
        ``target`` is an Endpoint (recorded as its ``redacted()`` form) or an
        already-redacted URL (any password in it is masked anyway); it defaults to
        the history connection's server.  Operator and tool version default to
        this process's OS user, host name and myshift version.
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, not {kind!r}")
        # Fail on an unwritable audit log before anything is recorded on the server.
        self._append_audit("")
        if isinstance(target, str):
            where = redact_url(target)
        else:
            where = (target or self._conn.endpoint).with_schema(target_schema).redacted()
        started = _now()
        snap = schema_to_json(snapshot) if snapshot is not None else None
        row = {
            "kind": kind,
            "target_schema": target_schema,
            "target": where,
            "operator_user": operator_user or _operator_user(),
            "operator_host": operator_host or socket.gethostname(),
            "tool_version": tool_version or __version__,
            "plan_hash": plan_hash,
            "from_fingerprint": from_fingerprint,
            "to_fingerprint": to_fingerprint,
            "started_at": started,
            "outcome": "running",
            "undoes_apply_id": undoes_apply_id,
            "notes": dict(notes or {}),
        }
        cols = [*row, "snapshot"]
        values = [*row.values(), snap]
        values[cols.index("notes")] = json.dumps(row["notes"], sort_keys=True, default=str)
        apply_id = self._write(
            f"INSERT INTO {self._q}.`applies` ({', '.join(f'`{c}`' for c in cols)}) "
            f"VALUES ({', '.join(['%s'] * len(cols))})",
            values,
        )
        self._audit(
            "apply_started",
            apply_id=apply_id,
            **row,
            snapshot=json.loads(snap) if snap is not None else None,
        )
        return apply_id

    def statement_started(self, apply_id: int, seq: int, sql: str, risk: str | None) -> None:
        """Record (and commit) a statement *before* it runs."""
        started = _now()
        risk_text = None if risk is None else str(risk)
        self._write(
            f"INSERT INTO {self._q}.`statements` "
            "(apply_id, seq, sql_text, risk, started_at, outcome) "
            "VALUES (%s, %s, %s, %s, %s, 'running')",
            (apply_id, seq, sql, risk_text, started),
        )
        self._audit(
            "statement_started",
            apply_id=apply_id,
            seq=seq,
            sql=sql,
            risk=risk_text,
            started_at=started,
        )

    def statement_finished(
        self,
        apply_id: int,
        seq: int,
        outcome: StatementOutcome | str,
        error: str | None = None,
        rows: int | None = None,
    ) -> None:
        if outcome not in ("ok", "failed"):
            raise ValueError(f"statement outcome must be 'ok' or 'failed', not {outcome!r}")
        finished = _now()
        self._write(
            f"UPDATE {self._q}.`statements` SET finished_at = %s, outcome = %s, error = %s, "
            "rows_affected = %s, "
            "duration = TIMESTAMPDIFF(MICROSECOND, started_at, %s) / 1000000 "
            "WHERE apply_id = %s AND seq = %s",
            (finished, outcome, error, rows, finished, apply_id, seq),
        )
        self._audit(
            "statement_finished",
            apply_id=apply_id,
            seq=seq,
            outcome=outcome,
            error=error,
            rows_affected=rows,
            finished_at=finished,
        )

    def finish_apply(
        self, apply_id: int, outcome: ApplyOutcome | str, error: str | None = None
    ) -> None:
        if outcome not in ("ok", "failed", "interrupted"):
            raise ValueError(
                f"apply outcome must be 'ok', 'failed' or 'interrupted', not {outcome!r}"
            )
        finished = _now()
        self._write(
            f"UPDATE {self._q}.`applies` SET finished_at = %s, outcome = %s, error = %s "
            "WHERE id = %s",
            (finished, outcome, error, apply_id),
        )
        self._audit(
            "apply_finished", apply_id=apply_id, outcome=outcome, error=error, finished_at=finished
        )

    def record_after(self, apply_id: int, after: Schema) -> None:
        """Record the objects an apply touched as they are right after it (for rollback)."""
        self._write(
            # INSERT and UPDATE: the history's documented grants (REPLACE needs DELETE).
            f"INSERT INTO {self._q}.`after_snapshots` (apply_id, snapshot) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE snapshot = VALUES(snapshot)",
            (apply_id, schema_to_json(after)),
        )

    def after_snapshot(self, apply_id: int) -> Schema | None:
        """What ``record_after`` recorded for an apply; None when nothing was (an apply
        that did not end well, or one made by an older myshift)."""
        if not self._has("after_snapshots"):
            return None
        rows = self._read(
            "SELECT snapshot FROM {q}.after_snapshots WHERE apply_id = %s", (apply_id,)
        )
        return schema_from_json(rows[0][0]) if rows else None

    def add_notes(self, apply_id: int, notes: Mapping[str, Any]) -> None:
        """Merge ``notes`` into an apply's notes (e.g. the rehearsal id once known)."""
        current = self.get_apply(apply_id).record.notes
        merged = {**current, **notes}
        self._write(
            f"UPDATE {self._q}.`applies` SET notes = %s WHERE id = %s",
            (json.dumps(merged, sort_keys=True, default=str), apply_id),
        )
        self._audit("notes_added", apply_id=apply_id, notes=dict(notes))

    # ------------------------------------------------------------------ reads

    @staticmethod
    def _record(row: tuple[Any, ...]) -> ApplyRecord:
        notes = json.loads(row[15]) if row[15] else {}
        return ApplyRecord(
            id=int(row[0]),
            kind=row[1],
            target_schema=row[2],
            target=row[3],
            operator_user=row[4],
            operator_host=row[5],
            tool_version=row[6],
            plan_hash=row[7],
            from_fingerprint=row[8],
            to_fingerprint=row[9],
            started_at=row[10],
            finished_at=row[11],
            outcome=row[12],
            error=row[13],
            undoes_apply_id=int(row[14]) if row[14] is not None else None,
            notes=notes,
            statements_total=int(row[16]),
            statements_ok=int(row[17]),
        )

    def list_applies(
        self,
        target_schema: str | None = None,
        limit: int = 50,
        *,
        kinds: Sequence[str] | None = None,
        outcome: str | None = None,
    ) -> list[ApplyRecord]:
        """Newest first.  An empty list when no history exists yet (nothing is created)."""
        if not self._exists():
            return []
        where: list[str] = []
        args: list[Any] = []
        if target_schema is not None:
            where.append("a.target_schema = %s")
            args.append(target_schema)
        if kinds:
            where.append(f"a.kind IN ({', '.join(['%s'] * len(kinds))})")
            args.extend(kinds)
        if outcome is not None:
            where.append("a.outcome = %s")
            args.append(outcome)
        sql = f"SELECT {APPLY_COLS} FROM {{q}}.applies a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.id DESC LIMIT %s"
        args.append(int(limit))
        return [self._record(r) for r in self._read(sql, args)]

    def latest_apply(
        self,
        target_schema: str,
        *,
        kinds: Sequence[str] | None = None,
        outcome: str | None = None,
    ) -> ApplyRecord | None:
        found = self.list_applies(target_schema, 1, kinds=kinds, outcome=outcome)
        return found[0] if found else None

    def passed_rehearsals(
        self, target_schema: str, plan_hash: str, from_fingerprint: str
    ) -> list[ApplyRecord]:
        """Passed rehearsals of this plan hash from this ``from``, newest first
        (the gate of a protected apply, apply.rehearsal_passed)."""
        if not self._exists():
            return []
        rows = self._read(
            f"SELECT {APPLY_COLS} FROM {{q}}.applies a WHERE a.kind = 'rehearsal' "
            "AND a.outcome = 'ok' AND a.target_schema = %s AND a.plan_hash = %s "
            "AND a.from_fingerprint = %s ORDER BY a.id DESC",
            (target_schema, plan_hash, from_fingerprint),
        )
        return [self._record(r) for r in rows]

    def get_apply(self, apply_id: int) -> ApplyDetail:
        rows = (
            self._read(
                f"SELECT {APPLY_COLS}, a.snapshot FROM {{q}}.applies a WHERE a.id = %s",
                (apply_id,),
            )
            if self._exists()
            else []
        )
        if not rows:
            raise UsageError(
                f"No apply #{apply_id} in the history on {self._server()}.",
                "Run `myshift history` to list the recorded applies.",
            )
        stmts = self._read(
            "SELECT apply_id, seq, sql_text, risk, started_at, finished_at, outcome, error, "
            "rows_affected, duration FROM {q}.statements WHERE apply_id = %s ORDER BY seq",
            (apply_id,),
        )
        return ApplyDetail(
            record=self._record(rows[0][:18]),
            statements=tuple(
                StatementRecord(
                    apply_id=int(s[0]),
                    seq=int(s[1]),
                    sql=s[2],
                    risk=s[3],
                    started_at=s[4],
                    finished_at=s[5],
                    outcome=s[6],
                    error=s[7],
                    rows_affected=int(s[8]) if s[8] is not None else None,
                    duration=float(s[9]) if s[9] is not None else None,
                )
                for s in stmts
            ),
            snapshot_json=rows[0][18],
        )
