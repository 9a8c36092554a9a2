"""The RDS firewall opened to this machine: ``myshift access open|close|sweep`` and
``access = "allowlist"``.

A rule myshift adds allows one address (/32, or /128 for IPv6) to the server's
port, and says so in its description: ``myshift user=alice
expires=2026-12-03T17:30Z``.  Only rules whose description is exactly that
form are myshift's: ``close`` removes the caller's, ``sweep`` removes expired
ones, and neither ever touches another rule, even one for the same address.
When a rule myshift did not write already lets this machine in, nothing is
added or removed.
"""

from __future__ import annotations

import getpass
import ipaddress
import math
import re
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from myshift.cloud.allowlist import (
    Firewall,
    Rule,
    add_rule,
    firewall_of,
    ingress_rules,
    remove_rule,
    set_description,
)
from myshift.cloud.aws import client, region_for
from myshift.config.settings import AwsSettings, EnvConfig, Settings
from myshift.errors import MyshiftError, UsageError
from myshift.workflows.trash import parse_age

Say = Callable[[str], None]
_MARK = re.compile(
    r"myshift user=(?P<user>[A-Za-z0-9._@+-]{1,64}) "
    r"expires=(?P<expires>\d{4}-\d\d-\d\dT\d\d:\d\dZ)"
)
_TIME = "%Y-%m-%dT%H:%MZ"


@dataclass(frozen=True)
class Mark:
    """What a myshift rule's description says: whose it is and when it expires."""

    user: str
    expires: datetime

    def text(self) -> str:
        return f"myshift user={self.user} expires={self.expires.strftime(_TIME)}"


def mark_of(rule: Rule) -> Mark | None:
    """The rule's mark, or None when myshift did not write its description."""
    m = _MARK.fullmatch(rule.description)
    if m is None:
        return None
    try:
        expires = datetime.strptime(m["expires"], _TIME).replace(tzinfo=UTC)
    except ValueError:
        return None
    return Mark(m["user"], expires)


def caller_user() -> str:
    """This machine's login name, as a rule description may hold it."""
    try:
        name = getpass.getuser()
    except Exception:  # no login name (a container without one)
        name = "unknown"
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name)[:64] or "unknown"


def caller_cidr(aws: AwsSettings, env: EnvConfig, given: str | None = None) -> str:
    """This machine's public address as a /32 (or /128): ``given``, allowlist_ip, else ip_url."""
    value = given or env.allowlist_ip
    source = "--ip" if given else f"allowlist_ip of [env.{env.name}]"
    if not value:
        value, source = _fetch_ip(aws.ip_url, env), aws.ip_url
    text = value.strip()
    for suffix in ("/32", "/128"):
        text = text.removesuffix(suffix)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(
            f"{value.strip()[:60]!r} from {source} is not an IP address.",
            "Give one address, e.g. --ip 203.0.113.7.",
        ) from None
    return f"{ip}/{32 if ip.version == 4 else 128}"


def _fetch_ip(url: str, env: EnvConfig) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return str(resp.read(200).decode("ascii", errors="replace").splitlines()[0])
    except (OSError, ValueError, IndexError) as exc:
        raise UsageError(
            f"Could not learn this machine's public IP from {url} ({exc}).",
            f"Give --ip, or allowlist_ip in [env.{env.name}], or fix ip_url in [aws].",
        ) from None


def expiry(now: datetime, ttl: str) -> datetime:
    """``now`` plus ``ttl`` ("30m", "2h"), rounded up to the minute."""
    span = parse_age(ttl)
    if span <= timedelta(0):
        raise UsageError(f"The allowlist lifetime {ttl!r} is not positive.", "Give e.g. 30m.")
    minutes = math.ceil((now + span).timestamp() / 60)
    return datetime.fromtimestamp(minutes * 60, tz=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _all_rules(aws: AwsSettings, env: EnvConfig, fw: Firewall) -> list[Rule]:
    return [r for g in fw.group_ids for r in ingress_rules(aws, env, g)]


def _show(rule: Rule) -> str:
    what = rule.description or "no description"
    return f"rule {rule.rule_id} of {rule.group_id} ({rule.cidr}, {what})"


def open_access(
    settings: Settings,
    env: EnvConfig,
    *,
    ttl: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> str:
    """Allow this machine into ``env``'s security group until now + ttl; say what was done."""
    aws, now = settings.aws, now or _now()
    ends = expiry(now, ttl or env.allowlist_ttl or aws.allowlist_ttl)
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env, ip)
    address = cidr.split("/")[0]
    mark = Mark(caller_user(), ends)
    rules = [r for r in _all_rules(aws, env, fw) if r.admits(address, fw.port)]
    mine = [r for r in rules if _is_mine(r, mark.user, cidr)]
    others = [r for r in rules if r not in mine]
    if others:
        whose = "a rule myshift did not write" if mark_of(others[0]) is None else "another user's"
        return (
            f"{address} is already allowed to port {fw.port} by {whose}: {_show(others[0])}. "
            "Nothing was added (and nothing will be removed).\n"
        )
    if mine:
        for r in mine:
            set_description(aws, env, r, mark.text())
        return f"Renewed {_show(mine[0])} until {ends.strftime(_TIME)}.\n"
    added = add_rule(aws, env, fw.group_ids[0], cidr, fw.port, mark.text())
    if added is None:
        return (
            f"{cidr} to port {fw.port} is already in {fw.group_ids[0]} (a duplicate rule). "
            "Nothing was added.\n"
        )
    return (
        f"Opened {added.group_id} to {cidr} on port {fw.port} for {mark.user} until "
        f"{ends.strftime(_TIME)} (rule {added.rule_id}). Close it with "
        f"`myshift access close --env {env.name}`; `myshift access sweep` removes it once "
        "expired.\n"
    )


def _is_mine(rule: Rule, user: str, cidr: str) -> bool:
    mark = mark_of(rule)
    return mark is not None and mark.user == user and _same_net(rule.cidr, cidr)


def _same_net(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False


def close_access(settings: Settings, env: EnvConfig, *, ip: str | None = None) -> str:
    """Remove this user's myshift rules for this machine's address; say what was done."""
    aws = settings.aws
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env, ip)
    user = caller_user()
    rules = _all_rules(aws, env, fw)
    mine = [r for r in rules if _is_mine(r, user, cidr)]
    for r in mine:
        remove_rule(aws, env, r)
    out = [f"Removed {_show(r)}." for r in mine] or [
        f"No myshift rule of {user} for {cidr} in {', '.join(fw.group_ids)}: nothing to close."
    ]
    elsewhere = [r for r in rules if r not in mine and (m := mark_of(r)) and m.user == user]
    for r in elsewhere:
        out.append(f"Left {_show(r)} (another address; `access sweep` removes it once expired).")
    return "\n".join(out) + "\n"


def sweep_access(
    settings: Settings, env: EnvConfig | None = None, *, now: datetime | None = None
) -> str:
    """Remove the expired myshift rules of ``env`` (default: every environment with a
    security group or RDS instance); every other rule stays."""
    now = now or _now()
    envs: Sequence[EnvConfig] = (
        [env]
        if env is not None
        else [e for e in settings.environments.values() if e.security_group or e.rds_instance]
    )
    if not envs:
        return "No environment of myshift.toml names a security_group or rds_instance.\n"
    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    counts = {"removed": 0, "unexpired": 0, "foreign": 0}
    failed: list[str] = []
    for e in envs:
        try:
            _sweep_env(settings.aws, e, now, seen, out, counts)
        except MyshiftError as exc:  # one environment's failure does not stop the sweep
            failed.append(f"{e.name}: {exc}")
    out.append(
        f"Swept {len(seen)} security group(s): removed {counts['removed']} expired myshift "
        f"rule(s); kept {counts['unexpired']} unexpired; left {counts['foreign']} rule(s) "
        "myshift did not write."
    )
    if failed:
        raise UsageError(
            "\n".join(out) + f"\nThe sweep failed for {'; '.join(failed)}",
            "Fix that and run the sweep again.",
        )
    return "\n".join(out) + "\n"


def _sweep_env(
    aws: AwsSettings,
    env: EnvConfig,
    now: datetime,
    seen: set[tuple[str, str]],
    out: list[str],
    counts: dict[str, int],
) -> None:
    fw = firewall_of(aws, env)
    for group in fw.group_ids:
        key = (region_for(aws, env), group)
        if key in seen:
            continue
        seen.add(key)
        for r in ingress_rules(aws, env, group):
            mark = mark_of(r)
            if mark is None:
                counts["foreign"] += 1
            elif mark.expires > now:
                counts["unexpired"] += 1
            else:
                remove_rule(aws, env, r)
                counts["removed"] += 1
                out.append(f"Removed expired {_show(r)}.")


@contextmanager
def allowlist_for_command(
    settings: Settings, env: EnvConfig, *, say: Say, renew_every: float | None = None
) -> Iterator[None]:
    """This machine's IP allowed into ``env``'s security group while the block runs.

    The rule added is removed on the way out (error and Ctrl-C included); a rule
    that already let this machine in is left as it is.  Its expiry (allowlist_ttl)
    lets ``access sweep`` remove it if this process is killed before it can, and
    is pushed forward every third of the ttl while the command runs (an apply
    may outlive 30 minutes; a sweep must not cut it off).
    """
    aws = settings.aws
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env)
    address = cidr.split("/")[0]
    covering = [r for r in _all_rules(aws, env, fw) if r.admits(address, fw.port)]
    if covering:
        say(f"myshift: {address} is already allowed by {_show(covering[0])}; nothing to open.")
        yield
        return
    ttl = env.allowlist_ttl or aws.allowlist_ttl
    mark = Mark(caller_user(), expiry(_now(), ttl))
    added = add_rule(aws, env, fw.group_ids[0], cidr, fw.port, mark.text())
    if added is None:
        say(f"myshift: {cidr} is already in {fw.group_ids[0]}; nothing to open.")
        yield
        return
    try:
        say(
            f"myshift: opened {added.group_id} to {cidr} on port {fw.port} for this command "
            f"(rule {added.rule_id}, expires {mark.expires.strftime(_TIME)})."
        )
        every = renew_every or max(parse_age(ttl).total_seconds() / 3, 1.0)
        with _renewing(aws, env, added, mark.user, ttl, every, say):
            yield
    finally:
        try:
            remove_rule(aws, env, added)
            say(f"myshift: closed {added.group_id} to {cidr} (rule {added.rule_id} removed).")
        except (MyshiftError, KeyboardInterrupt) as exc:  # a second Ctrl-C: say what is left
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            say(
                f"myshift: could not remove rule {added.rule_id} from {added.group_id} ({why}); "
                f"`myshift access close --env {env.name}` removes it now, "
                "`myshift access sweep` once it expires."
            )
            if isinstance(exc, KeyboardInterrupt):
                raise


@contextmanager
def _renewing(
    aws: AwsSettings, env: EnvConfig, rule: Rule, user: str, ttl: str, every: float, say: Say
) -> Iterator[None]:
    """Keep ``rule``'s expiry ``ttl`` ahead, every ``every`` seconds, while the block runs."""
    ec2 = client("ec2", aws, env)  # made here: a boto3 session is not thread-safe
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(every):
            try:
                set_description(aws, env, rule, Mark(user, expiry(_now(), ttl)).text(), ec2=ec2)
            except MyshiftError as exc:
                say(f"myshift: could not renew rule {rule.rule_id} ({exc}); it may be swept.")
                return

    thread = threading.Thread(target=renew, name="myshift-allowlist-renew", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
