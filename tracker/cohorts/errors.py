"""Domain errors of the cohorts service. tracker/errors.py maps each to one HTTP status."""


class CohortError(Exception):
    """Base class: a request about cohorts, groups or invites that the rules refuse. Nothing was written."""


class InvalidInput(CohortError):
    """A value of a form is missing, malformed or out of range; the message names the field."""


class UnknownCohort(CohortError):
    """No cohort has this id."""


class UnknownGroup(CohortError):
    """No group of this cohort has this id or name."""


class UnknownAccount(CohortError):
    """No account has this email: a learner signs up before they are placed in a group."""


class NameTaken(CohortError):
    """A cohort of the course, or a group of the cohort, already has this name."""


class InAnotherGroup(CohortError):
    """The learner is already in another group of the cohort; joining by invite does not move them."""


class NotAllowed(CohortError):
    """The account may not see or change this learner or group (tracker/cohorts/access.py)."""


class InviteProblem(CohortError):
    """An invite link that cannot be used; `title` heads the page that says so."""

    title = "This invite link does not work"


class UnknownInvite(InviteProblem):
    title = "This invite link is not valid"


class RevokedInvite(InviteProblem):
    title = "This invite link was withdrawn"


class ExpiredInvite(InviteProblem):
    title = "This invite link has expired"


class ImportRefused(CohortError):
    """A CSV of memberships with bad rows: nothing was imported. `problems` lists (line, why) for each."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__(f"Nothing was imported: {len(problems)} row{'s' if len(problems) != 1 else ''} of the file "
                         f"{'have' if len(problems) != 1 else 'has'} a problem.")
