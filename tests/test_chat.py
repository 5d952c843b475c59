"""The tutor chat: messages kept per learner and lens, answers streamed as events, and the limits around them."""
import re
import threading

import pytest

from support.chat import (
    ARTICLE,
    CHAT_LENS,
    MODULE,
    PAGE,
    ScriptedTutor,
    executable_parts,
    send,
    sse_events,
    stream_answer,
    token_of,
)
from tracker.chat.offline import OfflineTutor
from tracker.chat.material import tutor_material


def test_sent_message_shows_at_once_and_the_answer_streams_in_order_then_stays(client, chat_rows):
    token = token_of(client)
    sent = send(client, "Why do we forget so fast?")
    assert sent.status_code == 200
    assert "HX-Request" in sent.headers["Vary"]
    html = sent.get_data(as_text=True)
    assert "Why do we forget so fast?" in html
    assert f'data-answer-url="{PAGE}/chat/answer"' in html and "data-autostart" in html
    assert chat_rows(token) == [("learner", "Why do we forget so fast?", "complete")], "stored before the tutor is asked"

    answer = stream_answer(client)
    assert answer.status_code == 200
    assert answer.mimetype == "text/event-stream"
    assert answer.headers["Cache-Control"] == "no-cache"
    events = sse_events(answer)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"chunk"} and len(kinds) > 5
    streamed = "".join(data["text"] for kind, data in events if kind == "chunk")
    assert chat_rows(token)[-1] == ("tutor", streamed, "complete")
    assert "<blockquote>" in events[-2][1]["html"], "each chunk brings the answer so far, rendered"
    assert '<li class="message message-tutor"' in events[-1][1]["html"]

    page = client.get(PAGE).get_data(as_text=True)
    assert "Why do we forget so fast?" in page
    assert "Forgetting follows Ebbinghaus" in page, "the answer is in the history after a reload"
    assert "data-autostart" not in page and "has no answer yet" not in page


def test_history_partial_lists_the_conversation(client):
    token_of(client)
    send(client, "What is encoding?")
    stream_answer(client).get_data()
    fragment = client.get(f"{PAGE}/chat", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<ol id="chat-log"')
    assert fragment.count('class="message message-') == 2


def test_without_javascript_sending_returns_to_the_lens_with_the_message_waiting(client):
    token_of(client)
    response = send(client, "Is sleep part of learning?", htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == f"{PAGE}#chat"
    page = client.get(PAGE).get_data(as_text=True)
    assert "Is sleep part of learning?" in page and "Get an answer" in page


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "cannot be empty"),
        ("   \n\t ", "cannot be empty"),
        ("x" * 4001, "4,001 characters long; the most is 4,000"),
        ("null \x00 byte", "NUL character"),
    ],
)
def test_empty_or_too_long_messages_get_422_and_store_nothing(client, api, make_learner, chat_rows, text, problem):
    token = token_of(client)
    response = send(client, text)
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert response.get_data(as_text=True).lstrip().startswith('<p class="error"'), "htmx gets a fragment to show"
    learner = make_learner()
    api_response = api.chat(learner, MODULE, CHAT_LENS, text)
    assert api_response.status_code == 422 and problem in api_response.json["error"]
    assert chat_rows(token) == [] and chat_rows(learner.token) == []


def test_a_message_of_exactly_4000_characters_is_accepted(api, make_learner, chat_rows):
    learner = make_learner()
    assert api.chat(learner, MODULE, CHAT_LENS, "y" * 4000).status_code == 200
    assert chat_rows(learner.token)[0] == ("learner", "y" * 4000, "complete")


@pytest.mark.app_config(TRACKER_CHAT_MESSAGES_PER_MINUTE=2)
def test_too_many_messages_a_minute_get_429_with_retry_after(client, api, make_learner, chat_rows):
    token = token_of(client)
    for text in ("one", "two"):
        assert send(client, text).status_code == 200
        stream_answer(client).get_data()
    refused = send(client, "three")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "2 a minute" in refused.get_data(as_text=True)
    assert [text for role, text, _ in chat_rows(token) if role == "learner"] == ["one", "two"]

    other = make_learner()  # the limit is per learner, not per address
    assert api.chat(other, MODULE, CHAT_LENS, "mine").status_code == 200


def test_a_required_chat_lens_completes_only_after_a_message(client, api, make_learner):
    learner = make_learner()
    refused = api.complete(learner, CHAT_LENS, MODULE)
    assert refused.status_code == 409
    assert "Send the tutor at least one message" in refused.json["error"]
    assert api.state(learner, MODULE)["progress"]["completed"] == 0, "a refused completion writes nothing"
    assert api.chat(learner, MODULE, CHAT_LENS).status_code == 200
    assert api.complete(learner, CHAT_LENS, MODULE).status_code == 200


def test_the_lens_page_disables_mark_complete_until_the_first_message(client):
    token_of(client)
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'<button type="submit" class="button" disabled[^>]*>Mark complete', page)
    assert "Send the tutor at least one message first." in page
    sent = send(client, "Here is my first try.").get_data(as_text=True)
    assert re.search(r'<div id="completion" class="completion" hx-swap-oob="true">', sent)
    assert re.search(r'<button type="submit" class="button">Mark complete', sent)
    assert "disabled" not in client.get(PAGE).get_data(as_text=True).split('id="completion"')[1].split("</div>")[0]


def test_article_pages_offer_the_tutor_in_a_collapsed_panel(client):
    token_of(client)
    page = client.get(f"/modules/{MODULE}/{ARTICLE}").get_data(as_text=True)
    assert '<details class="ask-tutor">' in page and "Ask the tutor about this article" in page
    assert '<label for="chat-message">' in page
    send(client, "What is the savings method?", lens=ARTICLE)
    assert '<details class="ask-tutor" open>' in client.get(f"/modules/{MODULE}/{ARTICLE}").get_data(as_text=True)


def test_one_answer_streams_at_a_time_per_learner_and_lens(app, client, new_api, make_learner, chat_rows):
    gate = threading.Event()
    tutor = app.extensions["tracker.tutor"] = ScriptedTutor("Let me ", "think.", gate=gate)
    token = token_of(client)
    learner = make_learner(token)  # the same learner, from an API client in another thread
    first = threading.Thread(target=lambda: new_api().chat(learner, MODULE, CHAT_LENS, "First question"))
    first.start()
    assert tutor.started.wait(10)

    assert stream_answer(client).status_code == 409, "a second stream of the same conversation"
    busy = send(client, "Second question")
    assert busy.status_code == 409 and "still answering" in busy.get_data(as_text=True)
    gate.set()
    first.join(10)
    assert chat_rows(token) == [("learner", "First question", "complete"), ("tutor", "Let me think.", "complete")]
    assert stream_answer(client).status_code == 409, "nothing is waiting for an answer now"
    assert send(client, "Second question").status_code == 200, "the claim was given back"


def test_a_learner_who_leaves_mid_answer_keeps_the_part_that_arrived(app, client, chat_rows):
    app.extensions["tracker.tutor"] = ScriptedTutor("The first part. ", "The second part.", "Never sent.")
    token = token_of(client)
    send(client, "Tell me everything")
    response = stream_answer(client, buffered=False)
    body = iter(response.response)
    while "The second part." not in next(body).decode():
        pass
    response.close()  # the browser went away
    assert chat_rows(token)[-1] == ("tutor", "The first part. The second part.", "interrupted")
    assert "The answer was interrupted here." in client.get(PAGE).get_data(as_text=True)
    assert send(client, "Tell me the rest").status_code == 200, "the claim was given back"


def test_hostile_markup_from_the_tutor_or_the_learner_never_reaches_the_page_as_code(app, client):
    app.extensions["tracker.tutor"] = ScriptedTutor(
        "<script>alert('tutor')</script> Here: ",
        "[click me](javascript:alert('link')) ",
        '<img src=x onerror="alert(\'img\')"> <a href="javascript:alert(1)" onclick="alert(2)">raw</a> ',
        "**bold** stays.",
    )
    token_of(client)
    sent = send(client, "<script>alert('learner')</script><svg onload=alert(3)> [x](javascript:alert(4))")
    events = sse_events(stream_answer(client))
    done = events[-1][1]["html"]
    streamed = [data["html"] for kind, data in events if kind == "chunk"]
    page = client.get(PAGE).get_data(as_text=True)
    for html in (sent.get_data(as_text=True), *streamed, done, page):
        assert executable_parts(html) == [], html
    assert "<strong>bold</strong> stays." in done
    assert "&lt;script&gt;alert('tutor')&lt;/script&gt;" in done, "markup shows as text"


def test_claiming_moves_the_chat_into_the_account_and_merges_the_same_lens(browser_like, chat_rows):
    client = browser_like.client
    token_of(client)
    send(client, "Before I had an account")
    stream_answer(client).get_data()
    assert browser_like.signup().status_code == 303
    assert [text for role, text, _ in chat_rows("ada@example.org") if role == "learner"] == ["Before I had an account"]
    browser_like.logout()

    later = token_of(client)
    send(client, "Anonymous again")
    assert browser_like.login().status_code == 303
    assert chat_rows(later) == []
    history = client.get(f"/api/modules/{MODULE}/{CHAT_LENS}/chat").json["messages"]
    assert [m["text"] for m in history if m["role"] == "learner"] == ["Before I had an account", "Anonymous again"]
    page = client.get(PAGE).get_data(as_text=True)
    assert page.index("Before I had an account") < page.index("Anonymous again"), "one conversation, in time order"


def test_deleting_my_data_deletes_my_chats_and_exporting_includes_them(browser_like, api, make_learner, chat_rows):
    client = browser_like.client
    token = token_of(client)
    other = make_learner()
    api.chat(other, MODULE, CHAT_LENS, "Someone else's question")
    send(client, "My own question")
    stream_answer(client).get_data()

    exported = client.get("/me/export.json").json["chat_messages"]
    assert [(m["role"], m["lens_title"]) for m in exported] == [
        ("learner", "Explain Memory in Your Own Words"), ("tutor", "Explain Memory in Your Own Words")
    ]
    assert exported[0]["text"] == "My own question"

    assert "conversations with the tutor" in client.get("/me/delete").get_data(as_text=True)
    assert browser_like.post_form("/me/delete", form_page="/me/delete").status_code == 303
    assert "Deleted your progress (2 records)." in client.get("/me").get_data(as_text=True)
    assert chat_rows(token) == []
    assert len(chat_rows(other.token)) == 2, "only this learner's chats go"


def test_api_clients_send_a_message_and_read_the_answer_as_events(api, make_learner, client):
    learner = make_learner()
    response = api.chat(learner, MODULE, CHAT_LENS, "What does sleep do for memory?")
    events = sse_events(response)
    assert events[-1][0] == "done"
    stored = events[-1][1]["message"]
    assert stored["role"] == "tutor" and stored["status"] == "complete"
    assert stored["text"] == "".join(d["text"] for kind, d in events if kind == "chunk")
    history = client.get(f"/api/modules/{MODULE}/{CHAT_LENS}/chat", headers=learner.headers).json["messages"]
    assert [m["role"] for m in history] == ["learner", "tutor"]
    assert client.get(f"/api/modules/{MODULE}/no-such-lens/chat", headers=learner.headers).status_code == 404


def test_offline_tutor_answers_from_the_lens_and_checks_understanding(demo):
    module = demo.modules_by_slug[MODULE]
    lens = tutor_material(module, demo.lenses_by_name[ARTICLE])
    answer = OfflineTutor(delay_s=0).answer(lens, [], "What is the savings method?")
    assert "savings" in answer and "relearn" in answer, answer
    assert answer.startswith("Here is what “The Forgetting Curve” says")
    assert answer.rstrip().endswith("?")

    chat = tutor_material(module, demo.lenses_by_name[CHAT_LENS])
    answer = OfflineTutor(delay_s=0).answer(chat, [], "What is working memory?")
    assert "**working memory**" in answer and answer.rstrip().endswith("?"), "draws on the module's other lenses"
    chunks = list(OfflineTutor(delay_s=0).stream(chat, [], "What is working memory?"))
    assert len(chunks) > 10 and "".join(chunks) == answer


def test_offline_tutor_brings_an_unmatched_question_back_to_the_lens(demo):
    module = demo.modules_by_slug[MODULE]
    chat = tutor_material(module, demo.lenses_by_name[CHAT_LENS])
    answer = OfflineTutor(delay_s=0).answer(chat, [], "hello!")
    assert "I read the chapter twice" in answer and answer.rstrip().endswith("?")
