"""Download my data: the JSON has the account with everything only an account has, then the learning records;
the CSV is the same records for a spreadsheet, one row each (every chat message its own row), named in `record`."""
import csv
import io

from support.account_data import (  # noqa: F401  (admin_browser and anna are fixtures)
    ANNA, CHAT_LENS, FROM_OUR_PAGES, MODULE, admin_browser, anna, read, rows_of_account,
)
from support.cohorts import quick_password_hashes  # noqa: F401  (autouse: sign-ups here need no real scrypt)


def csv_table(client) -> list[dict]:
    response = client.get("/me/export.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-progress.csv"'
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffrecord,"), "a byte order mark, so that spreadsheets read it as UTF-8, then the kind of record"
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def test_the_json_download_holds_the_account_and_everything_it_owns(app, anna):
    exported = anna.client.get("/me/export.json").json
    account = exported["account"]
    assert (account["email"], account["display_name"], account["pseudonym"]) == (ANNA, f"Name of {anna.marker}", str(anna.pseudonym))
    assert account["created_at"].endswith("+00:00")
    assert account["roles"] == {"admin": False, "facilitator": True} and account["nudges_enabled"] is True
    [membership], [facilitated] = account["group_memberships"], account["facilitated_groups"]
    assert membership["group"] == facilitated["group"] == "Group one" and membership["course_slug"] == "study-skills"
    [invite] = account["invites_created"]
    assert invite["group"] == "Group one" and invite["expires_at"] and invite["revoked_at"] is None
    assert "token" not in str(invite), "the invite's link is not kept, not even as its hash"
    [nudge] = account["nudges_sent"]
    assert (nudge["kind"], nudge["group"], nudge["meeting_number"]) == ("learner", "Group one", 1)
    assert [m["role"] for m in exported["chat_messages"]] == ["learner", "tutor"]
    assert exported["chat_messages"][0]["text"] == f"{anna.marker}: why do we forget?"
    assert [a["text"] for a in exported["question_answers"]] == [f"{anna.marker}: my answer"]
    assert [s["statement_id"] for s in exported["sent_to_lrs"]] == anna.sent, "only what the LRS accepted"
    assert "password" not in str(exported) and "scrypt" not in str(exported) and "pbkdf2" not in str(exported)


def test_the_csv_download_has_a_row_for_the_account_and_one_for_every_record(app, anna):
    exported = anna.client.get("/me/export.json").json
    table = csv_table(anna.client)
    kinds = [row["record"] for row in table]
    assert kinds == sorted(kinds, key=kinds.index), "each kind's rows together"
    assert {kind: kinds.count(kind) for kind in kinds} == {
        "account": 1, "group_membership": 1, "facilitated_group": 1, "invite_created": 1, "nudge_sent": 1,
        "progress": len(exported["progress"]), "daily_time": len(exported["daily_time"]), "chat_message": 2,
        "question_answer": 1, "sent_to_lrs": 2,
    }
    [account] = [row for row in table if row["record"] == "account"]
    assert (account["email"], account["pseudonym"], account["facilitator"]) == (ANNA, str(anna.pseudonym), "True")
    messages = [(row["role"], row["text"], row["lens_title"]) for row in table if row["record"] == "chat_message"]
    assert messages == [(m["role"], m["text"], m["lens_title"]) for m in exported["chat_messages"]]
    assert all(row["content_id"] == "" for row in table if row["record"] != "progress"), "a kind fills only its own columns"


def test_an_anonymous_learners_download_has_no_account_and_their_chat_in_the_csv(client):
    client.get("/")
    answered = client.post(f"/api/modules/{MODULE}/{CHAT_LENS}/chat", json={"message": "=1+1, is that how memory adds up?"},
                           headers=FROM_OUR_PAGES)
    assert answered.status_code == 200 and "event: done" in answered.get_data(as_text=True)
    exported = client.get("/me/export.json").json
    assert exported["account"] is None and exported["chat_messages"][0]["text"] == "=1+1, is that how memory adds up?"
    table = csv_table(client)
    assert [row["record"] for row in table] == ["chat_message", "chat_message"]
    assert table[0]["text"] == "'=1+1, is that how memory adds up?", "a spreadsheet shows it, and runs no formula"


def test_downloading_writes_nothing(app, anna):
    before = read(app, rows_of_account, anna.user_id)
    anna.client.get("/me/export.json")
    anna.client.get("/me/export.csv")
    assert read(app, rows_of_account, anna.user_id) == before
