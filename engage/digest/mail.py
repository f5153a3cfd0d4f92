"""The digest as an e-mail: one `multipart/alternative` message, sent with smtplib.

The plain-text part comes first and the HTML part last, because a mail client shows the
last alternative it can render (RFC 2046, 5.1.4). The password is read from the
environment variable that feeds.yaml names, never from feeds.yaml itself.

Every way a send can fail (no such host, nothing listening, a refused login, a TLS
handshake that fails, a server that stops answering, a refused recipient) becomes one
EngageError line naming host:port and the reason, with a hint where one helps.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from engage.errors import EngageError
from engage.models import DigestSettings, SmtpSecurity


def build_message(
    settings: DigestSettings, *, subject: str, text: str, html: str, now: datetime
) -> EmailMessage:
    """The digest e-mail to `settings.email_to`, from `settings.email_from` (or the
    recipient, the usual choice for a mail to oneself), dated `now`."""
    if not settings.email_to:
        raise EngageError(
            "the digest has no recipient: set settings.digest.to in feeds.yaml "
            "(and from, smtp_host, security) to have it e-mailed"
        )
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    sender = settings.email_from or settings.email_to
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = settings.email_to
    message["Date"] = format_datetime(now)
    # make_msgid() without a domain asks the resolver for this machine's FQDN, which can
    # stall on a laptop without a network; the sender's domain is unique enough.
    message["Message-ID"] = make_msgid("engage", domain=sender.rpartition("@")[2])
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send_message(
    message: EmailMessage,
    settings: DigestSettings,
    *,
    environ: Mapping[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> None:
    """Send `message` through the server in settings. `context` verifies the server's
    certificate (the system's trusted authorities by default); `environ` is where the
    password variable is looked up (the process environment by default)."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    password = _password(settings, os.environ if environ is None else environ, where)
    context = context or ssl.create_default_context()
    try:
        with _connect(settings, context, where) as smtp:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, password or "")
            refused = smtp.send_message(message)
    except EngageError:
        raise
    except OSError as exc:  # smtplib's and ssl's errors are OSErrors too
        raise EngageError(f"e-mail not sent: {where}: {_reason(exc, settings)}") from None
    if refused:  # some recipients taken, others not: say which were not
        raise EngageError(f"e-mail not sent: {where}: {_refused(refused)}")


def _password(settings: DigestSettings, environ: Mapping[str, str], where: str) -> str | None:
    if not settings.smtp_user:
        return None
    name = settings.smtp_password_env
    if not name:
        raise EngageError(
            f"e-mail not sent: {where}: smtp_user is set but smtp_password_env is not "
            "(name the environment variable that holds the password, like ENGAGE_SMTP_PASSWORD)"
        )
    password = environ.get(name)
    if not password:
        raise EngageError(
            f"e-mail not sent: {where}: the environment variable {name} (smtp_password_env) "
            "is not set"
        )
    if settings.smtp_security is SmtpSecurity.NONE and not _is_loopback(settings.smtp_host):
        raise EngageError(
            f"e-mail not sent: {where}: refusing to send the password without TLS "
            "(set security: starttls or tls)"
        )
    return password


def _is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(settings: DigestSettings, context: ssl.SSLContext, where: str) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    if settings.smtp_security is SmtpSecurity.TLS:
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_security is SmtpSecurity.STARTTLS:
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise EngageError(
                    f"e-mail not sent: {where}: the server does not offer STARTTLS "
                    "(for TLS from the first byte, as on port 465, use security: tls)"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
    return smtp


def _reason(exc: OSError, settings: DigestSettings) -> str:
    """One line for the user: what went wrong, and what to change when we can tell."""
    timeout = f"{settings.smtp_timeout_seconds:g} s"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused for {settings.smtp_user} ({_said(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused(exc.recipients)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused ({_said(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server said {_said(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a timeout or a reset while reading a reply into "Connection
        # unexpectedly closed"; the OSError it caught says what really happened.
        cause = exc.__context__
        if isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException):
            return _reason(cause, settings)
        return f"the server closed the connection ({exc})"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and "AUTH" in str(exc):
        hint = ""
        if settings.smtp_security is SmtpSecurity.NONE:
            hint = "; many offer it only over TLS (security: starttls or tls)"
        return f"the server offers no login (AUTH) on this connection{hint}"
    if isinstance(exc, smtplib.SMTPException):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        hint = ""
        if settings.smtp_security is SmtpSecurity.TLS:
            hint = "; if the server starts in plain text, as on port 587, use security: starttls"
        return f"TLS failed ({exc.reason or exc}){hint}"
    if isinstance(exc, TimeoutError):
        hint = ""
        if settings.smtp_security is not SmtpSecurity.TLS:
            hint = "; if it expects TLS from the first byte, as on port 465, use security: tls"
        return f"no answer within {timeout}{hint}"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the host ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is an SMTP server listening there?)"
    return f"cannot connect ({exc.strerror or exc})"


def _said(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    parts = [f"{address} ({_said(code, text)})" for address, (code, text) in recipients.items()]
    return "recipient refused: " + ", ".join(parts)
