"""The examples in the OpenAPI document: real ids and names from the content being served, that fit together.

A client generator or a schema-driven fuzzer builds requests from them; with made-up ids every
one of those requests would be a 404, and the code behind the routes would go untried. So the
examples name one lens where a module places it: the module (slug and id), the learning outcome
that holds the lens there, the lens (id), and a lens of the same module with a tutor chat (name).
A request built from any of them together is one the app accepts.
"""
from dataclasses import dataclass

from tracker.content import ContentIndex


@dataclass(frozen=True)
class Examples:
    """Values, not content objects, so that the document built from them can be cached by them."""

    module_slug: str
    module_id: str
    lo_id: str
    lens_id: str
    chat_lens_ref: str  # the lens_ref of the chat routes: a lens with a chat, or else the lens above


def examples_from(index: ContentIndex) -> Examples:
    """The first required lens without a chat, so that completing it needs no message to the tutor first."""
    completable = (
        (module, section) for module in index.modules for section in module.sections
        if not section.optional and not section.lens.has_chat
    )
    # Content that loads has a module, and each module a lens (tracker/content/loader.py).
    module, section = next(completable, None) or (index.modules[0], index.modules[0].sections[0])
    chat = next((s for s in module.sections if s.lens.has_chat), section)
    return Examples(
        module_slug=module.slug,
        module_id=str(module.id),
        lo_id=str(section.outcome.id),
        lens_id=str(section.lens.id),
        chat_lens_ref=chat.lens.name,
    )
