"""Deliver one message to one channel: HTTP (urllib) or SMTP (smtplib), one retry.

A delivery is tried twice at most, each bounded by the channel's timeout.
It is retried only when the message cannot have arrived (the connection or
the request failed, or the receiver answered 429/5xx before taking it), so
a receiver never gets an event twice from one command.  Failures come back
as one sentence naming the channel and the fix, never raised: telling the
team must never break the apply it tells about.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from myshift import __version__
from myshift.config.notify import ChannelConfig
from myshift.workflows.notify.channel import Channel

if TYPE_CHECKING:
    from myshift.workflows.notify.message import Message

RETRY_PAUSE = 0.5
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _Retry(Exception):
    """Not delivered, and safe to try again: ``str`` says why."""


class _Failed(Exception):
    """Not delivered (or not known to be), not to be tried again: ``str`` says why."""


def deliver(channel: Channel, msg: Message) -> str | None:
    """Send ``msg``; None when delivered, else the warning to print."""
    cfg = channel.config
    send = _send_email if cfg.type == "email" else _send_http
    why = ""
    for attempt in (1, 2):
        try:
            send(channel, msg)
            return None
        except _Retry as exc:
            why = str(exc)
            if attempt == 1:
                time.sleep(RETRY_PAUSE)
        except _Failed as exc:
            why = str(exc)
            break
    tries = "after 2 tries" if why and attempt == 2 else "not retried"
    return (
        f"Warning: notification {msg.event.kind} not delivered to channel {cfg.name!r} "
        f"({cfg.where}, {tries}): {why}. {_fix(cfg, why)} The command itself goes on."
    )


def _fix(cfg: ChannelConfig, why: str) -> str:
    if "authentication" in why.lower():
        return f"Check user and the password in ${cfg.password_env} for {cfg.section}."
    if "certificate" in why.lower():
        return f"Check the server's certificate, or set ca_file in {cfg.section}."
    if cfg.type == "email":
        return f"Check smtp_host, smtp_port and tls in {cfg.section} of myshift.toml."
    where = f"${cfg.url_env}" if cfg.url_env else "url"
    return f"Check the webhook URL ({where}) of {cfg.section} in myshift.toml."


# --------------------------------------------------------------------------- HTTP


def _send_http(channel: Channel, msg: Message) -> None:
    cfg = channel.config
    body = {"text": msg.text()} if cfg.type == "slack" else msg.payload()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"myshift/{__version__}",
        "Idempotency-Key": msg.id,
    }
    if channel.token:
        headers["Authorization"] = f"Bearer {channel.token}"
    assert channel.url is not None
    req = urllib.request.Request(
        channel.url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout) as resp:
            resp.read(65536)
    except urllib.error.HTTPError as exc:
        text = f"the receiver answered HTTP {exc.code} {exc.reason}"
        raise (_Retry if exc.code in _RETRY_STATUS else _Failed)(text) from None
    except urllib.error.URLError as exc:
        # Raised while connecting or sending: the receiver has nothing.
        raise _Retry(f"cannot reach it ({_reason(exc.reason)})") from None
    except (OSError, ValueError) as exc:
        # While reading the answer: it may have arrived, so it is not sent again.
        raise _Failed(f"no answer in time ({_reason(exc)})") from None


def _reason(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- SMTP


def _email(channel: Channel, msg: Message) -> EmailMessage:
    cfg = channel.config
    mail = EmailMessage()
    mail["Subject"] = msg.subject()
    mail["From"] = cfg.sender or ""
    mail["To"] = ", ".join(cfg.to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(idstring=msg.id)
    mail["X-Myshift-Event"] = msg.event.kind
    mail.set_content(msg.text() + "\n")
    return mail


def _tls_context(cfg: ChannelConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cfg.ca_file)


def _send_email(channel: Channel, msg: Message) -> None:
    cfg = channel.config
    host, port = cfg.smtp_host or "", cfg.smtp_port
    mail = _email(channel, msg)
    try:
        if cfg.tls == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=cfg.timeout, context=_tls_context(cfg)
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=cfg.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise _Retry(f"cannot reach it ({_reason(exc)})") from None
    with smtp:
        _session(smtp, channel, mail)


def _session(smtp: smtplib.SMTP, channel: Channel, mail: EmailMessage) -> None:
    cfg = channel.config
    try:
        if cfg.tls == "starttls":
            smtp.starttls(context=_tls_context(cfg))
        if cfg.user:
            smtp.login(cfg.user, channel.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        raise _Failed(f"authentication refused ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise _Failed("the server offers no STARTTLS (or no login)") from None
    except (OSError, smtplib.SMTPException) as exc:
        # Before the message was given: safe to try again.
        raise _Retry(f"the session failed ({_reason(exc)})") from None
    try:
        refused = smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused:
        raise _Failed(f"every recipient was refused ({', '.join(cfg.to)})") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _Failed(f"the server hung up while taking it ({_reason(exc)})") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise _Failed(f"the server did not take it ({_reason(exc)})") from None
    if refused:
        raise _Failed(f"recipient(s) refused: {', '.join(refused)}")


__all__ = ["deliver"]
