"""The digest e-mail, sent to a real aiosmtpd server on 127.0.0.1: plain, STARTTLS and
implicit TLS (with a throwaway certificate authority from trustme), logins, and every
failure as one line."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from engage.digest.mail import build_message, send_message
from engage.errors import EngageError
from engage.models import DigestSettings, SmtpSecurity

NOW = datetime(2026, 3, 2, 7, 30, tzinfo=timezone(timedelta(hours=1)))
PASSWORD_ENV = "ENGAGE_TEST_SMTP_PASSWORD"
PASSWORD = "correct horse battery staple"
SUBJECT = "engage · 2 ready to ask · 3 follow-ups · 14 new posts"
TEXT = "Ready to ask\n\nAda Lanternfield — her reply: https://ada.example.org/p/1#c-2\n"
HTML = (
    "<!doctype html><html><body><h1>Ready to ask</h1><p>Ada Lanternfield — "
    '<a href="https://ada.example.org/p/1#c-2">her reply</a></p></body></html>\n'
)


@dataclass
class Mailbox:
    """What the server saw: one entry per message delivered."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, user)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append(email.message_from_bytes(raw, policy=default_policy))
        self.envelopes.append(envelope)
        # The transport, not session.ssl: aiosmtpd sets that one after STARTTLS only.
        assert server.transport is not None
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"

    def authenticate(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = auth_data.login == b"robin" and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append((mechanism, auth_data.login.decode()))
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def free_port() -> int:
    # aiosmtpd's controller connects to its own port to start, so it cannot take port 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    if options.pop("auth", False):
        options["authenticator"] = mailbox.authenticate
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def settings(port: int, **changes: Any) -> DigestSettings:
    base = DigestSettings(
        email_to="robin@robin.example.net",
        email_from="engage@robin.example.net",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout_seconds=10.0,
    )
    return replace(base, **changes)


def message(s: DigestSettings) -> EmailMessage:
    return build_message(s, subject=SUBJECT, text=TEXT, html=HTML, now=NOW)


def assert_is_the_digest(received: EmailMessage) -> None:
    assert received["Subject"] == SUBJECT
    assert received["From"] == "engage@robin.example.net"
    assert received["To"] == "robin@robin.example.net"
    assert parsedate_to_datetime(received["Date"]) == NOW
    assert received["Message-ID"].endswith("@robin.example.net>")
    assert received.get_content_type() == "multipart/alternative"
    parts = list(received.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    # Compared without line ends: on the wire every line ends in CRLF.
    bodies = [p.get_content().replace("\r\n", "\n") for p in parts]
    assert bodies == [TEXT, HTML]


def one_line(exc: pytest.ExceptionInfo[EngageError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and exc.value.lines == [text]
    assert exc.value.exit_code != 0
    return text


# ---------------------------------------------------------------------------
# Sent and received


def test_the_message_has_a_plain_and_an_html_part_and_the_usual_headers() -> None:
    built = message(settings(25))
    assert_is_the_digest(email.message_from_bytes(bytes(built), policy=default_policy))
    assert "=?utf-8?q?=C2=B7_2_ready" in built.as_string()  # the middle dot, encoded (RFC 2047)


def test_the_sender_defaults_to_the_recipient() -> None:
    built = message(settings(25, email_from=None))
    assert built["From"] == built["To"] == "robin@robin.example.net"


def test_a_digest_without_a_recipient_is_one_clear_line() -> None:
    with pytest.raises(EngageError) as exc:
        message(settings(25, email_to=None))
    assert "settings.digest.to" in one_line(exc)


def test_plain_smtp_delivers_both_parts() -> None:
    with smtp_server() as (mailbox, port):
        s = settings(port)
        send_message(message(s), s)
    [received] = mailbox.messages
    assert_is_the_digest(received)
    assert mailbox.envelopes[0].mail_from == "engage@robin.example.net"
    assert mailbox.envelopes[0].rcpt_tos == ["robin@robin.example.net"]
    assert mailbox.over_tls == [False]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_then_login_with_the_password_from_the_environment(
    mechanism: str,
    server_tls: ssl.SSLContext,
    client_tls: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    # require_starttls and the default auth_require_tls: the server refuses mail and
    # logins until the connection is encrypted, so a delivery proves STARTTLS happened.
    with smtp_server(
        tls_context=server_tls, require_starttls=True, auth=True, auth_exclude_mechanism=[other]
    ) as (mailbox, port):
        s = settings(
            port,
            smtp_security=SmtpSecurity.STARTTLS,
            smtp_user="robin",
            smtp_password_env=PASSWORD_ENV,
        )
        send_message(message(s), s, context=client_tls)
    assert_is_the_digest(mailbox.messages[0])
    assert mailbox.over_tls == [True]
    assert mailbox.logins == [(mechanism, "robin")]


def test_implicit_tls_then_login(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    # auth_require_tls=False: aiosmtpd counts only STARTTLS as TLS and would hide AUTH on
    # an implicit-TLS connection; over_tls below checks the encryption instead.
    with smtp_server(ssl_context=server_tls, auth=True, auth_require_tls=False) as (
        mailbox,
        port,
    ):
        s = settings(
            port, smtp_security=SmtpSecurity.TLS, smtp_user="robin", smtp_password_env="PW"
        )
        send_message(message(s), s, environ={"PW": PASSWORD}, context=client_tls)
    assert_is_the_digest(mailbox.messages[0])
    assert mailbox.over_tls == [True]
    assert mailbox.logins == [("PLAIN", "robin")]


def test_a_server_without_logins_is_one_line() -> None:
    with smtp_server() as (mailbox, port):
        s = settings(port, smtp_user="robin", smtp_password_env="PW")
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s, environ={"PW": PASSWORD})
    assert one_line(exc) == (
        f"e-mail not sent: 127.0.0.1:{port}: the server offers no login (AUTH) on this "
        "connection; many offer it only over TLS (security: starttls or tls)"
    )
    assert mailbox.messages == []


def test_a_login_over_plain_smtp_is_allowed_to_this_machine_only() -> None:
    with smtp_server(auth=True, auth_require_tls=False) as (mailbox, port):
        s = settings(port, smtp_user="robin", smtp_password_env="PW")
        send_message(message(s), s, environ={"PW": PASSWORD})
    assert mailbox.logins == [("PLAIN", "robin")]
    remote = settings(25, smtp_host="smtp.example.net", smtp_user="robin", smtp_password_env="PW")
    with pytest.raises(EngageError) as exc:
        # Refused before any connection is made: nothing is sent to the example host.
        send_message(message(remote), remote, environ={"PW": PASSWORD})
    assert one_line(exc) == (
        "e-mail not sent: smtp.example.net:25: refusing to send the password without TLS "
        "(set security: starttls or tls)"
    )


# ---------------------------------------------------------------------------
# Failures: one line each, naming host:port and the reason


def test_a_wrong_password_is_one_line(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    with smtp_server(ssl_context=server_tls, auth=True, auth_require_tls=False) as (
        mailbox,
        port,
    ):
        s = settings(
            port, smtp_security=SmtpSecurity.TLS, smtp_user="robin", smtp_password_env="PW"
        )
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s, environ={"PW": "wrong"}, context=client_tls)
    assert one_line(exc).startswith(
        f"e-mail not sent: 127.0.0.1:{port}: login refused for robin (535 5.7.8 "
    )
    assert mailbox.messages == []


def test_an_unset_password_variable_is_one_line() -> None:
    s = settings(2525, smtp_user="robin", smtp_password_env="ENGAGE_TEST_NOT_SET")
    with pytest.raises(EngageError) as exc:
        send_message(message(s), s, environ={})
    assert one_line(exc) == (
        "e-mail not sent: 127.0.0.1:2525: the environment variable ENGAGE_TEST_NOT_SET "
        "(smtp_password_env) is not set"
    )


def test_nothing_listening_is_one_line() -> None:
    port = free_port()
    s = settings(port)
    with pytest.raises(EngageError) as exc:
        send_message(message(s), s)
    assert one_line(exc) == (
        f"e-mail not sent: 127.0.0.1:{port}: connection refused "
        "(is an SMTP server listening there?)"
    )


def test_implicit_tls_to_a_plain_server_is_one_line(client_tls: ssl.SSLContext) -> None:
    with smtp_server() as (mailbox, port):
        s = settings(port, smtp_security=SmtpSecurity.TLS)
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s, context=client_tls)
    text = one_line(exc)
    assert text.startswith(f"e-mail not sent: 127.0.0.1:{port}: TLS failed (")
    assert text.endswith(
        "if the server starts in plain text, as on port 587, use security: starttls"
    )
    assert mailbox.messages == []


def test_starttls_to_a_server_without_it_is_one_line(client_tls: ssl.SSLContext) -> None:
    with smtp_server() as (mailbox, port):
        s = settings(port, smtp_security=SmtpSecurity.STARTTLS)
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s, context=client_tls)
    assert one_line(exc) == (
        f"e-mail not sent: 127.0.0.1:{port}: the server does not offer STARTTLS "
        "(for TLS from the first byte, as on port 465, use security: tls)"
    )
    assert mailbox.messages == []


def test_a_certificate_nobody_vouches_for_is_refused(server_tls: ssl.SSLContext) -> None:
    # The system's authorities do not know the test CA: the default context must refuse.
    with smtp_server(tls_context=server_tls) as (mailbox, port):
        s = settings(port, smtp_security=SmtpSecurity.STARTTLS)
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s)
    assert one_line(exc).startswith(
        f"e-mail not sent: 127.0.0.1:{port}: TLS certificate not accepted ("
    )
    assert mailbox.messages == []


def test_a_refused_recipient_is_one_line() -> None:
    with smtp_server() as (mailbox, port):
        s = settings(port, email_to="nobody@robin.example.net")
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s)
    assert one_line(exc) == (
        f"e-mail not sent: 127.0.0.1:{port}: recipient refused: "
        "nobody@robin.example.net (550 5.1.1 no such mailbox here)"
    )
    assert mailbox.messages == []


def test_a_server_that_never_answers_times_out_in_one_line() -> None:
    # A socket that listens but never speaks: the kernel accepts the connection and the
    # SMTP greeting never comes, as with a plain client on an implicit-TLS port.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        s = settings(port, smtp_timeout_seconds=0.5)
        with pytest.raises(EngageError) as exc:
            send_message(message(s), s)
    assert one_line(exc) == (
        f"e-mail not sent: 127.0.0.1:{port}: no answer within 0.5 s; "
        "if it expects TLS from the first byte, as on port 465, use security: tls"
    )
