"""Sending email through an SMTP server, with the standard library's smtplib. No Flask here.

Every failure becomes one of two errors, because the caller must tell them apart: MessageRefused
(the server answered that it will not take this message, so it certainly was not sent) and
MailUnavailable (no server to talk to, or the connection broke, so a message in flight may or
may not have been delivered).
"""
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage

from .errors import MailUnavailable, MessageRefused

TIMEOUT_S = 30  # per network operation: a server that hangs must not hold a cron job for ever


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False

    @classmethod
    def from_config(cls, config) -> "SmtpSettings":
        return cls(
            host=config["TRACKER_SMTP_HOST"], port=config["TRACKER_SMTP_PORT"], username=config["TRACKER_SMTP_USERNAME"],
            password=config["TRACKER_SMTP_PASSWORD"], starttls=bool(config["TRACKER_SMTP_STARTTLS"]),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Mailbox:
    """One open SMTP connection, sending one message at a time."""

    def __init__(self, smtp: smtplib.SMTP, settings: SmtpSettings):
        self.smtp, self.settings = smtp, settings

    def send(self, message: EmailMessage) -> None:
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            (code, reply), = error.recipients.values()
            raise MessageRefused(f"the SMTP server refused the recipient {message['To']}: {code} {reply.decode(errors='replace')}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise MessageRefused(f"the SMTP server refused the message to {message['To']}: {error.smtp_code} "
                                 f"{error.smtp_error.decode(errors='replace')}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailUnavailable(f"the connection to the SMTP server at {self.settings.address} broke: {error}") from None


@contextmanager
def smtp_mailbox(settings: SmtpSettings) -> Iterator[Mailbox]:
    """Connect (with STARTTLS and a login when the settings ask for them), and quit at the end."""
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
    except (smtplib.SMTPException, OSError) as error:  # no server, no such host, or a greeting other than 220
        raise MailUnavailable(f"could not reach the SMTP server at {settings.address}: {error}") from None
    try:
        try:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
        except (smtplib.SMTPException, OSError) as error:
            raise MailUnavailable(f"the SMTP server at {settings.address} did not let us in: {error}") from None
        yield Mailbox(smtp, settings)
    finally:
        with suppress(smtplib.SMTPException, OSError):  # the messages are sent or not by now; a failed goodbye changes nothing
            smtp.quit()
        smtp.close()
