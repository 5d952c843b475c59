"""The OpenAI-compatible tutor against a real local server that speaks the streaming protocol.

Each test's app is pointed at the fake server through the three settings, as a deployment would be.
"""
import pytest
from support.chat import CHAT_LENS, MODULE, PAGE, send, sse_events, stream_answer, token_of
from support.fake_openai import FakeOpenAI, unused_port_url

from tracker.chat.openai_compatible import OpenAICompatibleTutor

# The server binds its port now, so the settings can name it; it serves from the first test on.
FAKE = FakeOpenAI()


def llm_settings(**extra):
    """The three settings that point the app at the fake server, plus any others a test needs."""
    settings = {"TRACKER_LLM_BASE_URL": FAKE.url, "TRACKER_LLM_MODEL": "fake-model", "TRACKER_LLM_API_KEY": "sk-test"}
    return pytest.mark.app_config(**settings, **extra)


pytestmark = llm_settings()


@pytest.fixture(scope="module")
def fake_server():
    with FAKE:
        yield FAKE


@pytest.fixture
def fake_llm(fake_server):
    fake_server.mode, fake_server.delay_s, fake_server.requests[:] = "ok", 0, []
    return fake_server


def answer(client, question: str):
    assert send(client, question).status_code == 200
    response = stream_answer(client)
    assert response.status_code == 200, "a failing tutor never makes the request fail"
    return sse_events(response)


def test_configured_model_answers_and_its_chunks_stream_through(app, client, fake_llm, chat_rows):
    assert isinstance(app.extensions["tracker.tutor"], OpenAICompatibleTutor)
    token = token_of(client)
    events = answer(client, "Is memory a recording?")
    assert [data["text"] for kind, data in events if kind == "chunk"] == fake_llm.chunks
    assert events[-1][0] == "done"
    assert chat_rows(token) == [
        ("learner", "Is memory a recording?", "complete"),
        ("tutor", "Memory is a process, not a recording.", "complete"),
    ]

    request = fake_llm.requests[-1]
    assert request["headers"]["authorization"] == "Bearer sk-test"
    body = request["body"]
    assert (body["model"], body["stream"]) == ("fake-model", True)
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "You are a patient, encouraging study tutor." in system["content"], "the lens's tutor_instructions"
    assert "Explain Memory in Your Own Words" in system["content"], "the lens's title"
    assert "Imagine a friend tells you" in system["content"], "the lens's text"
    assert body["messages"][-1] == {"role": "user", "content": "Is memory a recording?"}


def test_the_conversation_so_far_goes_with_the_next_question(client, fake_llm):
    token_of(client)
    answer(client, "First question")
    answer(client, "Second question")
    roles = [(m["role"], m["content"]) for m in fake_llm.requests[-1]["body"]["messages"][1:]]
    assert roles == [
        ("user", "First question"),
        ("assistant", "Memory is a process, not a recording."),
        ("user", "Second question"),
    ]


@llm_settings(TRACKER_LLM_CONTEXT_CHARS=800)
def test_the_lens_text_is_trimmed_to_the_configured_size(client, fake_llm):
    token_of(client)
    answer(client, "Tell me")
    system = fake_llm.requests[-1]["body"]["messages"][0]["content"]
    lens_text = system.split("<lens-text>\n")[1].split("\n</lens-text>")[0]
    assert lens_text.endswith("[…the rest of the text is left out]")
    assert len(lens_text) <= 800 + len("\n\n[…the rest of the text is left out]")
    assert "Imagine a friend tells you" in system, "the opening prompt is always there"


def test_a_dropped_connection_keeps_the_partial_answer_marked_interrupted(client, fake_llm, chat_rows):
    token = token_of(client)
    fake_llm.mode = "drop"
    events = answer(client, "Is memory a recording?")
    assert [data["text"] for kind, data in events if kind == "chunk"] == fake_llm.chunks[:2]
    kind, data = events[-1]
    assert kind == "error" and "broke off" in data["error"]
    assert "The answer was interrupted here." in data["html"]
    assert chat_rows(token)[-1] == ("tutor", "Memory is a ", "interrupted")
    page = client.get(PAGE).get_data(as_text=True)
    assert "The answer was interrupted here." in page, "the page says so after a reload too"
    fake_llm.mode = "ok"
    assert answer(client, "Can you finish?")[-1][0] == "done", "the conversation goes on"


@pytest.mark.parametrize(
    ("mode", "problem"),
    [("error", "The tutor service answered with an error (HTTP 500)."), ("unreachable", "cannot be reached")],
)
def test_a_failing_provider_shows_a_clear_message_and_keeps_the_message_to_send_again(
    app, client, fake_llm, chat_rows, mode, problem
):
    token = token_of(client)
    if mode == "unreachable":
        app.extensions["tracker.tutor"].client = app.extensions["tracker.tutor"].client.with_options(
            base_url=unused_port_url()
        )
    else:
        fake_llm.mode = mode
    events = answer(client, "Is memory a recording?")
    assert [kind for kind, _ in events] == ["error"]
    assert problem in events[0][1]["error"] and events[0][1]["html"] is None
    assert chat_rows(token) == [("learner", "Is memory a recording?", "complete")], "the message is kept"
    page = client.get(PAGE).get_data(as_text=True)
    assert "Your last message has no answer yet." in page and "Get an answer" in page

    if mode == "unreachable":
        app.extensions["tracker.tutor"].client = app.extensions["tracker.tutor"].client.with_options(base_url=fake_llm.url)
    fake_llm.mode = "ok"
    retried = sse_events(stream_answer(client))
    assert retried[-1][0] == "done", "sending again gets the answer"
    assert [role for role, _, _ in chat_rows(token)] == ["learner", "tutor"]


@llm_settings(TRACKER_LLM_TIMEOUT_S=1)
def test_a_provider_that_does_not_answer_in_time_gets_a_clear_message(client, fake_llm, chat_rows):
    token = token_of(client)
    fake_llm.mode, fake_llm.delay_s = "slow", 2.5
    events = answer(client, "Hello?")
    assert events[-1][0] == "error" and "did not answer within 1 s" in events[-1][1]["error"]
    assert chat_rows(token) == [("learner", "Hello?", "complete")]


def test_api_clients_get_the_models_answer_too(api, make_learner, fake_llm):
    events = sse_events(api.chat(make_learner(), MODULE, CHAT_LENS, "Is memory a recording?"))
    assert events[-1][1]["message"]["text"] == "Memory is a process, not a recording."
