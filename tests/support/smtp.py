"""A real SMTP server for a test (aiosmtpd, in this process, on a free port), keeping what it received in memory."""
import email
import socket
import threading
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd's handler: every message accepted, except for the recipients told to refuse or to break on."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, to check what the parser would hide (encoded words, folding)
        self.refused: set[str] = set()  # answered 550 at RCPT TO: the message is certainly not taken
        self.hang_up_on: set[str] = set()  # the connection closes after the message's data, before any answer
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hang_up_on & set(envelope.rcpt_tos):
            server.transport.close()  # as a server that crashes mid-message: the client never learns whether it was taken
            return "421 closing"
        with self.lock:
            self.raw.append(envelope.content)
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick); aiosmtpd needs a number before it binds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    """(inbox, port) of an SMTP server that runs until the block ends."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()
