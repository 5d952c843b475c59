"""Choosing the tutor from the settings.

A new provider is one class with a `stream(lens, history, question)` method that yields text and
raises TutorUnavailable (the Tutor interface in tracker/chat/material.py), and one line here.
"""
from collections.abc import Mapping

from .material import Tutor
from .offline import OfflineTutor
from .openai_compatible import OpenAICompatibleTutor


def make_tutor(settings: Mapping) -> Tutor:
    """The OpenAI-compatible tutor when a model is configured, else the offline tutor."""
    if settings["TRACKER_LLM_MODEL"]:
        return OpenAICompatibleTutor(
            base_url=settings["TRACKER_LLM_BASE_URL"] or None,
            api_key=settings["TRACKER_LLM_API_KEY"],
            model=settings["TRACKER_LLM_MODEL"],
            context_chars=settings["TRACKER_LLM_CONTEXT_CHARS"],
            timeout_s=settings["TRACKER_LLM_TIMEOUT_S"],
        )
    return OfflineTutor(delay_s=settings["TRACKER_OFFLINE_TUTOR_DELAY_MS"] / 1000)
