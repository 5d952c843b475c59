"""Domain errors of nudges. tracker/errors.py maps the ones a request can meet to one HTTP status each."""


class NudgeError(Exception):
    """Base class: something about nudges that the rules refuse or that could not be done."""


class InvalidChoice(NudgeError):
    """A form asked for a nudge setting other than on or off. Nothing was written."""


class BadUnsubscribeLink(NudgeError):
    """An unsubscribe link whose signature does not check out: cut short, changed, or not ours. Nothing was written."""


class UnknownAccount(NudgeError):
    """A genuine unsubscribe link for an account that no longer exists (or no longer has that email). Nothing was written."""


class MailUnavailable(NudgeError):
    """The SMTP server could not be reached, refused the login, or went away."""


class MessageRefused(NudgeError):
    """The SMTP server refused one message (its sender, its recipient or its content): it was not sent."""


class SendingStopped(NudgeError):
    """The connection to the SMTP server broke while a nudge was being sent; the run stopped there.

    `report` says what was sent before; `nudge` is the one whose fate is unknown.
    """

    def __init__(self, message: str, report, nudge):
        super().__init__(message)
        self.report, self.nudge = report, nudge
