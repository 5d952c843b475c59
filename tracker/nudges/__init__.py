"""Nudges: emails before a group's meeting to the members who are behind, and a summary to its facilitators. No Flask here.

service.py (who gets what, at most once; a learner's choice), messages.py (the emails, from
templates/email/), mail.py (SMTP), tokens.py (signed unsubscribe links), store.py (all the SQL).
"""
from .errors import (
    BadUnsubscribeLink, InvalidChoice, MailUnavailable, MessageRefused, NudgeError, SendingStopped, UnknownAccount,
)
from .mail import SmtpSettings, smtp_mailbox
from .messages import Composer
from .service import (
    FACILITATOR, LEARNER, Nudge, SendReport, export_nudges, plan_nudges, send_nudges, set_nudges,
    unsubscribe, unsubscribe_link_setting,
)

__all__ = [
    "FACILITATOR", "LEARNER", "BadUnsubscribeLink", "Composer", "InvalidChoice", "MailUnavailable", "MessageRefused",
    "Nudge", "NudgeError", "SendReport", "SendingStopped", "SmtpSettings", "UnknownAccount", "export_nudges",
    "plan_nudges", "send_nudges", "set_nudges", "smtp_mailbox", "unsubscribe", "unsubscribe_link_setting",
]
