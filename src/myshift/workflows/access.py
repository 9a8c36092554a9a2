"""The RDS firewall opened to this machine: ``myshift access open|close|sweep`` and
``access = "allowlist"``.

A rule myshift adds allows one address (/32, or /128 for IPv6) to the server's
port, and says so in its description: ``myshift user=alice
expires=2026-12-03T17:30Z``.  Only rules whose description is exactly that
form are myshift's: ``close`` removes the caller's, ``sweep`` removes expired
ones, and neither ever touches another rule, even one for the same address.
When a rule myshift did not write already lets this machine in, nothing is
added or removed.

Several users of one address (CI jobs behind one NAT, two terminals) share one
rule: each running command and each user's ``access open`` puts a hold on it
(a tag ``myshift:hold:…`` whose value is when the hold expires), and whoever
finishes removes the rule only when no unexpired hold is left.  ``sweep``
goes by the description's expiry, which running commands keep pushing forward.
"""

from __future__ import annotations

import getpass
import ipaddress
import math
import os
import re
import secrets
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from myshift.cloud.allowlist import (
    Firewall,
    Rule,
    add_rule,
    current,
    firewall_of,
    ingress_rules,
    remove_rule,
    set_description,
    tag_rule,
    untag_rule,
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
# The tag that holds a rule open: one per running command (cmd-HOST-PID-RANDOM) and
# one per user's `access open` (open-USER); its value is when the hold expires.
HOLD = "myshift:hold:"


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
    """Allow this machine into ``env``'s security group until now + ttl; say what was done.

    A myshift rule that already lets this address in (another user's, or a running
    command's) is kept open for this user instead: its expiry is pushed forward
    and this user's hold is added to it.
    """
    aws, now = settings.aws, now or _now()
    ends = expiry(now, ttl or env.allowlist_ttl or aws.allowlist_ttl)
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env, ip)
    address = cidr.split("/")[0]
    mark = Mark(caller_user(), ends)
    hold = {f"{HOLD}open-{mark.user}": ends.strftime(_TIME)}
    rules = [r for r in _all_rules(aws, env, fw) if r.admits(address, fw.port)]
    foreign = [r for r in rules if mark_of(r) is None]
    if foreign:
        return (
            f"{address} is already allowed to port {fw.port} by a rule myshift did not write: "
            f"{_show(foreign[0])}. Nothing was added (and nothing will be removed).\n"
        )
    if rules:
        held = _join(aws, env, rules[0], hold, mark)
        if held is not None:
            return f"Kept {_show(rules[0])} open for {mark.user} until {ends.strftime(_TIME)}.\n"
    added = add_rule(aws, env, fw.group_ids[0], cidr, fw.port, mark.text(), hold)
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


def _join(
    aws: AwsSettings, env: EnvConfig, rule: Rule, hold: dict[str, str], mark: Mark
) -> Rule | None:
    """Add ``hold`` to the myshift ``rule`` and push its expiry to ``mark``'s; None if
    the rule was removed meanwhile."""
    tag_rule(aws, env, rule, hold)
    now = current(aws, env, rule)
    if now is not None:
        _extend(aws, env, now, mark)
    return now


def _extend(aws: AwsSettings, env: EnvConfig, rule: Rule, mark: Mark, ec2: Any = None) -> None:
    """Push ``rule``'s expiry to ``mark``'s, keeping whose rule it is (never shorten it)."""
    old = mark_of(rule)
    if old is not None and old.expires >= mark.expires:
        return
    text = Mark(old.user if old else mark.user, mark.expires).text()
    set_description(aws, env, rule, text, ec2=ec2)


def live_holds(rule: Rule, now: datetime) -> list[str]:
    """The holds on ``rule`` that have not expired (a killed command's hold expires)."""
    live = []
    for key, value in rule.tags.items():
        if not key.startswith(HOLD):
            continue
        try:
            until = datetime.strptime(value, _TIME).replace(tzinfo=UTC)
        except ValueError:
            continue
        if until > now:
            live.append(key)
    return live


def _is_users(rule: Rule, user: str, key: str) -> bool:
    """A myshift rule this user opened, or holds open."""
    mark = mark_of(rule)
    return mark is not None and (mark.user == user or key in rule.tags)


def _same_net(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False


def close_access(settings: Settings, env: EnvConfig, *, ip: str | None = None) -> str:
    """Drop this user's hold on the myshift rules for this machine's address, and remove
    each rule no running command still holds; say what was done."""
    aws = settings.aws
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env, ip)
    user = caller_user()
    key = f"{HOLD}open-{user}"
    rules = _all_rules(aws, env, fw)
    mine = [r for r in rules if _same_net(r.cidr, cidr) and _is_users(r, user, key)]
    out: list[str] = []
    for r in mine:
        untag_rule(aws, env, r, key)
        now = current(aws, env, r)
        if now is None:
            continue
        holds = [h for h in live_holds(now, _now()) if h != key]
        if holds:
            out.append(
                f"Left {_show(r)} open: {len(holds)} other myshift hold(s) (running commands "
                "or another user's access open) still use it; the last one removes it."
            )
        else:
            remove_rule(aws, env, r)
            out.append(f"Removed {_show(r)}.")
    if not out:
        out.append(
            f"No myshift rule of {user} for {cidr} in {', '.join(fw.group_ids)}: nothing to close."
        )
    elsewhere = [r for r in rules if not _same_net(r.cidr, cidr) and _is_users(r, user, key)]
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

    The rule is held (a tag naming this process) while the command runs and removed
    on the way out (error and Ctrl-C included) unless another myshift command, or
    an ``access open``, still holds it: commands that share an address (CI jobs
    behind one NAT) do not cut each other off.  A rule myshift did not write that
    already lets this machine in is left as it is.  The rule's expiry (allowlist_ttl)
    is pushed forward every third of the ttl while the command runs, and lets
    ``access sweep`` remove it if this process is killed.
    """
    aws = settings.aws
    fw = firewall_of(aws, env)
    cidr = caller_cidr(aws, env)
    address = cidr.split("/")[0]
    covering = [r for r in _all_rules(aws, env, fw) if r.admits(address, fw.port)]
    foreign = [r for r in covering if mark_of(r) is None]
    if foreign:
        say(f"myshift: {address} is already allowed by {_show(foreign[0])}; nothing to open.")
        yield
        return
    ttl = env.allowlist_ttl or aws.allowlist_ttl
    mark = Mark(caller_user(), expiry(_now(), ttl))
    key = f"{HOLD}cmd-{_host()}-{os.getpid()}-{secrets.token_hex(3)}"
    hold = {key: mark.expires.strftime(_TIME)}
    rule = _join(aws, env, covering[0], hold, mark) if covering else None
    verb = "holding" if rule is not None else "opened"
    if rule is None:
        rule = add_rule(aws, env, fw.group_ids[0], cidr, fw.port, mark.text(), hold)
    if rule is None:  # a duplicate: added by another command between the two calls
        say(f"myshift: {cidr} was just allowed into {fw.group_ids[0]}; nothing to open.")
        yield
        return
    try:
        say(
            f"myshift: {verb} {rule.group_id} to {cidr} on port {fw.port} for this command "
            f"(rule {rule.rule_id}, expires {mark.expires.strftime(_TIME)})."
        )
        every = renew_every or max(parse_age(ttl).total_seconds() / 3, 1.0)
        with _renewing(aws, env, rule, key, Mark(mark.user, mark.expires), ttl, every, say):
            yield
    finally:
        _release(aws, env, rule, key, say)


def _release(aws: AwsSettings, env: EnvConfig, rule: Rule, key: str, say: Say) -> None:
    """Drop this command's hold; remove the rule unless someone else still holds it."""
    try:
        untag_rule(aws, env, rule, key)
        now = current(aws, env, rule)
        holds = [] if now is None else live_holds(now, _now())
        if now is not None and not holds:
            remove_rule(aws, env, now)
        if now is None:
            say(f"myshift: rule {rule.rule_id} of {rule.group_id} was already removed.")
        elif holds:
            say(
                f"myshift: left rule {rule.rule_id} of {rule.group_id} open: "
                f"{len(holds)} other myshift hold(s) still use it."
            )
        else:
            say(f"myshift: closed {rule.group_id} to {rule.cidr} (rule {rule.rule_id} removed).")
    except (MyshiftError, KeyboardInterrupt) as exc:  # a second Ctrl-C: say what is left
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        say(
            f"myshift: could not remove rule {rule.rule_id} from {rule.group_id} ({why}); "
            f"`myshift access close --env {env.name}` removes it now, "
            "`myshift access sweep` once it expires."
        )
        if isinstance(exc, KeyboardInterrupt):
            raise


@contextmanager
def _renewing(
    aws: AwsSettings,
    env: EnvConfig,
    rule: Rule,
    key: str,
    mark: Mark,
    ttl: str,
    every: float,
    say: Say,
) -> Iterator[None]:
    """Keep ``rule``'s expiry and this command's hold ``ttl`` ahead while the block runs."""
    ec2 = client("ec2", aws, env)  # made here: a boto3 session is not thread-safe
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(every):
            try:
                ahead = Mark(mark.user, expiry(_now(), ttl))
                tag_rule(aws, env, rule, {key: ahead.expires.strftime(_TIME)}, ec2=ec2)
                now = current(aws, env, rule, ec2=ec2)
                if now is None:
                    say(f"myshift: rule {rule.rule_id} was removed by someone else.")
                    return
                _extend(aws, env, now, ahead, ec2=ec2)
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


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:40] or "host"
