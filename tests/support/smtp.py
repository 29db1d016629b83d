"""A local SMTP server (aiosmtpd) that keeps what it receives, for the tests of the e-mail the planner sends."""

from __future__ import annotations

import socket
from email.header import decode_header, make_header
from email.message import Message as EmailMessage

import pytest


@pytest.fixture
def smtp_sink():
    """A local SMTP server that keeps what it receives: (port, the messages)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:  # a free port (the controller checks its server by connecting to the port given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def subject(message: EmailMessage) -> str:
    return str(make_header(decode_header(message["Subject"])))


def text(message: EmailMessage) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
