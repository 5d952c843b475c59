"""xAPI statements as tracker makes them, for the export and for the LRS outbox. No Flask here.

Activity ids are built from the configured canonical base (TRACKER_BASE_URL), never from the
host name a request used, so the same progress always gives the same statements. Every statement
says where its activity sits (context.contextActivities), so an LRS can roll lenses up into their
learning outcomes, modules and courses:

- a lens's `parent` is the LO that holds it, an LO's is its module, a module's is its course;
- `grouping` holds the module(s) and course(s) around the activity.

A lens placed in two modules is one activity, completed once: its statement has one `parent`
per placement (each LO that holds it) and every module and course in `grouping`. One statement
per placement would count the one completion twice in any LRS report that counts completions.
"""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tracker.content import ContentIndex
from tracker.learner import anonymous_label

NAMESPACE = uuid.UUID("6c1f4c0e-3b8a-4c57-9a53-2f0b1f7e4d21")  # tracker's namespace for statement ids
ACTOR_KINDS = ("account", "mbox", "mbox_sha1sum")
VERBS = {
    "completed": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "progressed": {"id": "http://adlnet.gov/expapi/verbs/progressed", "display": {"en-US": "progressed"}},
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "module": "http://adlnet.gov/expapi/activities/module",
    "lo": "http://adlnet.gov/expapi/activities/objective",
    "lens": "http://adlnet.gov/expapi/activities/lesson",
}
# cmi5's extension for how far through an activity the learner is, an integer percentage.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"
PLATFORM = "tracker"


@dataclass(frozen=True)
class XapiSettings:
    """How statements are made: the canonical base of activity ids, how accounts appear, the content's language."""

    base_url: str  # ends with "/"
    actor_kind: str = "account"
    language: str = "en"

    def __post_init__(self):
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        if self.actor_kind not in ACTOR_KINDS:
            raise ValueError(f"actor_kind must be one of {', '.join(ACTOR_KINDS)}, got {self.actor_kind!r}")


@dataclass(frozen=True)
class Account:
    """What an account's actor is made from."""

    pseudonym: UUID
    email: str
    display_name: str = ""


def iso_duration(seconds: int | None) -> str:
    """ISO 8601 duration, e.g. PT1H2M3S."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{secs}S" if secs or not seconds else "")
    )
    return f"PT{parts}"


def actor(settings: XapiSettings, account: Account | None = None, anonymous_token: UUID | None = None) -> dict:
    """An account as the settings say (a pseudonymous account by default), or an anonymous learner by a pseudonym of their token."""
    if account is None:
        pseudonym = uuid.uuid5(NAMESPACE, f"anonymous:{anonymous_token}")
        return {
            "objectType": "Agent",
            "name": anonymous_label(anonymous_token),
            "account": {"homePage": settings.base_url, "name": f"anonymous-{pseudonym}"},
        }
    if settings.actor_kind == "mbox":
        return {"objectType": "Agent", "name": account.display_name or account.email, "mbox": f"mailto:{account.email}"}
    if settings.actor_kind == "mbox_sha1sum":
        return {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(f"mailto:{account.email}".encode()).hexdigest()}
    return {"objectType": "Agent", "account": {"homePage": settings.base_url, "name": str(account.pseudonym)}}


class Places:
    """Where each module, LO and lens of a content index sits, as xAPI activities; built once per index."""

    def __init__(self, settings: XapiSettings, index: ContentIndex):
        self.settings, self.index = settings, index
        self.courses_of_module: dict[UUID, list] = {}
        for course in index.courses:
            for ref in course.module_refs:
                self.courses_of_module.setdefault(ref.module.id, []).append(course)
        # An LO's own id and the ids of the LOs grouped with it (their rows complete together).
        self.modules_of_outcome: dict[UUID, list] = {}
        self.outcome_titles: dict[UUID, str] = {}
        for module in index.modules:
            for outcome in module.outcomes:
                for lo_id, title in ((outcome.id, outcome.title), *outcome.grouped):
                    modules = self.modules_of_outcome.setdefault(lo_id, [])
                    if module not in modules:
                        modules.append(module)
                    self.outcome_titles.setdefault(lo_id, title)

    def activity(self, level: str, key, title: str) -> dict:
        return {
            "objectType": "Activity",
            "id": f"{self.settings.base_url}activities/{level}/{key}",
            "definition": {"name": {self.settings.language: title}, "type": ACTIVITY_TYPES[level]},
        }

    def course_activity(self, course) -> dict:
        return self.activity("course", course.slug, course.title)

    def module_activity(self, module) -> dict:
        return self.activity("module", module.id, module.title)

    def context_activities(self, level: str, content_id: UUID) -> dict:
        """parent and grouping for an activity; empty lists are left out, as xAPI wants."""
        if level == "lens":
            placements = self.index.placements_of(content_id)
            parents = [self.activity("lo", p.outcome.id, p.outcome.title) for p in placements]
            modules = [p.module for p in placements]
        elif level == "lo":
            modules = self.modules_of_outcome.get(content_id, [])
            parents = [self.module_activity(m) for m in modules]
        else:  # a module: its courses are its parents, and there is no module around it
            modules, parents = [], [self.course_activity(c) for c in self.courses_of_module.get(content_id, [])]
        courses = [c for m in modules for c in self.courses_of_module.get(m.id, [])] or self.courses_of_module.get(content_id, [])
        grouping = unique([self.module_activity(m) for m in modules] + [self.course_activity(c) for c in courses])
        return {name: value for name, value in (("parent", unique(parents)), ("grouping", grouping)) if value}


def unique(activities: list[dict]) -> list[dict]:
    return list({a["id"]: a for a in activities}.values())


def statement(
    places: Places,
    who: dict,
    *,
    verb: str,
    level: str,
    content_id: UUID,
    title: str,
    moment: datetime,
    seconds: int | None,
    progress_percent: int | None = None,
) -> dict:
    """One statement: `who` completed or progressed in the activity, at `moment`, after `seconds` of active time.

    The id is derived from the actor, the verb, the activity and what was recorded, so making the
    statement again (a second export, the outbox and an export) gives the same id, and an LRS
    stores it once. A change of actor setting gives new ids rather than a conflict.
    """
    obj = places.activity(level, content_id, title)
    recorded = [who.get("account") or who.get("mbox") or who.get("mbox_sha1sum"), verb, obj["id"], seconds, moment.isoformat()]
    result = {"completion": verb == "completed", "duration": iso_duration(seconds)}
    if progress_percent is not None:
        result["extensions"] = {PROGRESS_EXTENSION: progress_percent}
    context = {"platform": PLATFORM, "language": places.settings.language}
    activities = places.context_activities(level, content_id)
    if activities:
        context["contextActivities"] = activities
    return {
        "id": str(uuid.uuid5(NAMESPACE, json.dumps(recorded, sort_keys=True))),
        "actor": who,
        "verb": VERBS[verb],
        "object": obj,
        "result": result,
        "context": context,
        "timestamp": moment.isoformat(),
    }


def percent(done: int, total: int) -> int:
    """How far through, as a whole percentage that reaches 100 only when everything is done."""
    if total == 0:
        return 0
    return 100 if done >= total else min(99, round(100 * done / total))


_places: list = []  # (settings, index, Places) of the last index asked about


def places_for(settings: XapiSettings, index: ContentIndex) -> Places:
    """The Places of this index, kept while the app serves it (content reloads make a new index)."""
    if _places and _places[0][0] == settings and _places[0][1] is index:
        return _places[0][2]
    built = Places(settings, index)
    _places[:] = [(settings, index, built)]
    return built
