"""Plan files: the reviewed artefact that `apply` executes exactly.

A plan file is JSON.  It carries the statements (with risk, algorithm, lock,
reason and pre-flight checks), the fingerprints of the target before (`from`)
and of the desired schema (`to`), snapshots of both models (so apply can say
*what* drifted and verify the result), the target server's identity, the tool
version and creation time, and the rehearsals run on it.  ``plan_hash`` covers
what must not change between review and apply: statements, `from` and `to`
(and, for plans that record them, the options the statements were derived
with: ``Derivation``).  No password is ever written to it.

Nothing in a plan file is trusted because it is there: ``apply`` re-derives
the statements from the snapshots and options and refuses a file that holds
anything else (workflows.plancheck), and a protected environment's rehearsal
gate reads the target's own history, not ``rehearsals``.  With a team key
(``MYSHIFT_PLAN_KEY`` or ``plan_key_file`` in myshift.toml) the file is also
signed (HMAC-SHA256 over ``signed_content``) and apply refuses unsigned or
badly signed ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from myshift import __version__
from myshift.errors import UsageError
from myshift.model import Event, Flavor, Routine, Schema, Table, Trigger, View
from myshift.model.identity import ServerIdentity
from myshift.model.serialize import from_dict, to_dict
from myshift.workflows.planmodel import Derivation, PlannedStatement

FORMAT_VERSION = 1


SIGNATURE_PREFIX = "hmac-sha256:"


@dataclass
class PlanFile:
    """The reviewable, tamper-evident plan file that ``apply --plan`` runs exactly."""

    target: str
    schema: str
    flavor: str
    identity: ServerIdentity
    from_fingerprint: str
    to_fingerprint: str
    statements: list[PlannedStatement]
    current: Schema
    desired: Schema
    tool_version: str = __version__
    created_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    allow_drop: bool = False
    rehearsals: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "apply"  # or "rollback"
    undoes_apply_id: int | None = None
    # None: a plan file made before myshift recorded its options (apply infers them).
    derivation: Derivation | None = None
    signature: str | None = None

    @property
    def plan_hash(self) -> str:
        h = hashlib.sha256()
        h.update(self.from_fingerprint.encode())
        h.update(self.to_fingerprint.encode())
        for st in self.statements:
            h.update(b"\x00" + (b"S" if st.skipped else b"R") + st.sql.encode())
            h.update(st.keep_marker)
            h.update(st.session_marker)
        if self.derivation is not None:
            # Added only when recorded, so older plan files hash as they did.
            options = {
                "allow_drop": self.allow_drop,
                "flavor": self.flavor,
                "kind": self.kind,
                "undoes_apply_id": self.undoes_apply_id,
                **self.derivation.to_json(),
            }
            h.update(b"\x02" + json.dumps(options, sort_keys=True).encode())
        return "sha256:" + h.hexdigest()

    @property
    def runnable(self) -> list[PlannedStatement]:
        return [s for s in self.statements if not s.skipped]

    @property
    def flavor_value(self) -> Flavor:
        return Flavor.from_string(self.flavor)

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "plan_hash": self.plan_hash,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "kind": self.kind,
            "undoes_apply_id": self.undoes_apply_id,
            "target": self.target,
            "schema": self.schema,
            "flavor": self.flavor,
            "identity": to_dict(self.identity),
            "from": self.from_fingerprint,
            "to": self.to_fingerprint,
            "allow_drop": self.allow_drop,
            "warnings": self.warnings,
            "statements": [to_dict(s) for s in self.statements],
            "rehearsals": self.rehearsals,
            "snapshots": {"from": to_dict(self.current), "to": to_dict(self.desired)},
        }
        if self.derivation is not None:
            data["derivation"] = self.derivation.to_json()
        return data

    def to_json(self) -> str:
        data = self._data()
        if self.signature is not None:
            data["signature"] = self.signature
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    def signed_content(self) -> bytes:
        """What the signature covers: everything myshift reads from the file but the
        rehearsals (``rehearse`` appends those to a signed plan), canonically."""
        data = self._data()
        del data["rehearsals"]
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def expected_signature(self, key: bytes) -> str:
        mac = hmac.new(key, self.signed_content(), hashlib.sha256)
        return SIGNATURE_PREFIX + mac.hexdigest()

    def sign(self, key: bytes) -> None:
        self.signature = self.expected_signature(key)

    def signature_ok(self, key: bytes) -> bool:
        return self.signature is not None and hmac.compare_digest(
            self.signature.encode(), self.expected_signature(key).encode()
        )

    def write(self, path: str | Path, key: bytes | None = None) -> None:
        """Write the file atomically; signed with ``key`` when given (else the
        signature it was read with, if any, is kept)."""
        if key is not None:
            self.sign(key)
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(p)

    @classmethod
    def from_json(cls, text: str, origin: str = "plan file") -> PlanFile:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            current, desired = _snapshots(data["snapshots"])
            pf = cls(
                target=data["target"],
                schema=data["schema"],
                flavor=data["flavor"],
                identity=from_dict(ServerIdentity, data["identity"]),
                from_fingerprint=data["from"],
                to_fingerprint=data["to"],
                statements=[from_dict(PlannedStatement, s) for s in data["statements"]],
                current=current,
                desired=desired,
                tool_version=data["tool_version"],
                created_at=data["created_at"],
                allow_drop=bool(data.get("allow_drop")),
                rehearsals=list(data.get("rehearsals", [])),
                warnings=list(data.get("warnings", [])),
                kind=data.get("kind", "apply"),
                undoes_apply_id=data.get("undoes_apply_id"),
                derivation=(
                    Derivation.from_json(data["derivation"]) if "derivation" in data else None
                ),
                signature=_optional_str(data.get("signature"), "signature"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(
                f"{origin} is not a valid myshift plan ({type(exc).__name__}: {exc}).",
                "Re-create it with `myshift plan -o FILE`.",
            ) from None
        if data.get("plan_hash") != pf.plan_hash:
            raise UsageError(
                f"{origin} was modified after it was made: its statements do not match its hash.",
                "Re-create it with `myshift plan -o FILE` and review it again.",
            )
        return pf

    @classmethod
    def read(cls, path: str | Path) -> PlanFile:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"Cannot read plan file {p}: {exc.strerror}.", "Check the path."
            ) from None
        return cls.from_json(text, origin=str(p))


_KINDS: tuple[tuple[str, type], ...] = (
    ("tables", Table),
    ("views", View),
    ("routines", Routine),
    ("triggers", Trigger),
    ("events", Event),
)


def _snapshots(snapshots: dict[str, Any]) -> tuple[Schema, Schema]:
    """Both models; an object the two sides have alike is one object, as when the plan
    was made (introspect.Twin), so fingerprinting and diffing the pair stay cheap."""
    before, after = snapshots["from"], snapshots["to"]
    current = from_dict(Schema, before)
    desired = from_dict(Schema, {k: v for k, v in after.items() if k not in dict(_KINDS)})
    shared: dict[str, tuple[Any, ...]] = {}
    for kind, cls in _KINDS:
        mine: dict[str, list[tuple[Any, Any]]] = {}
        for raw, obj in zip(before.get(kind, ()), getattr(current, kind), strict=True):
            mine.setdefault(raw.get("name"), []).append((raw, obj))
        shared[kind] = tuple(
            next((obj for raw, obj in mine.get(d.get("name"), ()) if raw == d), None)
            or from_dict(cls, d)
            for d in after.get(kind, ())
        )
    return current, replace(
        desired,
        tables=shared["tables"],
        views=shared["views"],
        routines=shared["routines"],
        triggers=shared["triggers"],
        events=shared["events"],
    )


def _optional_str(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value
