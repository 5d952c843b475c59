"""Video lenses that play media files, authors' estimates, and how long each lens should take.

The loader tests need no database; the estimate tests read the estimates back from the app's
pages and its JSON module state, on both databases.
"""
import re

import pytest

from support.media import make_audio, make_webm, place_lens, write_lens
from tracker.content import ContentError, load_content
from tracker.content.model import AUDIO_FILE_TYPES, VIDEO_FILE_TYPES
from tracker.learn.media import MEDIA_TYPES

MODULE = "how-memory-works"
LENS = "lenses/new-lens.md"


def words(count: int, word: str = "word") -> str:
    return " ".join([word] * count)


def video(video_url: str = "media/clip.webm", duration_s: int = 300, **fields) -> dict:
    return {"type": "video", "video_url": video_url, "duration_s": duration_s, **fields}


def refused(content, **front_matter) -> ContentError:
    """Write lenses/new-lens.md and return the error that refuses the content."""
    write_lens(content, "new-lens", **front_matter)
    with pytest.raises(ContentError) as caught:
        load_content(content)
    return caught.value


def loaded_lens(content, body: str = "A few words.", **front_matter):
    write_lens(content, "new-lens", body, **front_matter)
    return load_content(content).lenses_by_name["new-lens"]


@pytest.fixture
def content(editable_content):
    """A copy of the demo content with media/clip.webm and media/talk.ogg in it, a text file
    beside them, and a video outside the content directory that a symlink leads to."""
    make_webm(editable_content / "media" / "clip.webm", 1)
    make_audio(editable_content / "media" / "talk.ogg", 1)
    (editable_content / "media" / "notes.txt").write_text("Not a video.", encoding="utf-8")
    make_webm(editable_content.parent / "outside.webm", 1)
    (editable_content / "media" / "linked.webm").symlink_to(editable_content.parent / "outside.webm")
    return editable_content


# ---------------------------------------------------------------------------------------------
# Where a video lens's media comes from.
# ---------------------------------------------------------------------------------------------


def test_a_file_in_the_content_directory_plays_in_the_page_and_is_listed_for_serving(content):
    """Also shows that the refusals below come from their video_url: these files are there."""
    write_lens(content, "new-lens", **video("media/clip.webm"))
    write_lens(content, "new-talk", **video("media/./talk.ogg"))
    index = load_content(content)
    clip, talk = index.lenses_by_name["new-lens"], index.lenses_by_name["new-talk"]
    assert (clip.videos[0].media_kind, clip.videos[0].media_file) == ("video", "media/clip.webm")
    assert (talk.videos[0].media_kind, talk.videos[0].media_file) == ("audio", "media/talk.ogg")  # the path as it is served
    assert index.media_files == {"media/clip.webm", "media/talk.ogg"}
    assert index.media_origins == ()


def test_a_file_whose_name_looks_like_a_url_fragment_is_still_a_video(content):
    (content / "media" / "clip.webm").rename(content / "media" / "clip #2.webm")
    lens = loaded_lens(content, **video("media/clip #2.webm"))
    assert (lens.videos[0].media_kind, lens.videos[0].media_file) == ("video", "media/clip #2.webm")


@pytest.mark.parametrize("video_url, kind, origins", [
    ("https://media.example.org/talk.mp4", "video", ("https://media.example.org",)),
    ("https://media.example.org/talk.mp3?signature=abc", "audio", ("https://media.example.org",)),
    ("HTTPS://Media.Example.org:8443/talk.WEBM", "video", ("https://Media.Example.org:8443",)),
    ("https://www.youtube.com/watch?v=O96fE1E-rf8", "youtube", ()),
    ("https://example.org/a-page-about-the-talk", "link", ()),
])
def test_a_web_address_plays_links_or_embeds_by_what_it_names(content, video_url, kind, origins):
    lens = loaded_lens(content, **video(video_url))
    assert (lens.videos[0].media_kind, lens.videos[0].media_file) == (kind, None)
    assert load_content(content).media_origins == origins


def test_every_media_type_a_lens_may_play_is_served_with_its_content_type():
    assert set(MEDIA_TYPES) == set(VIDEO_FILE_TYPES + AUDIO_FILE_TYPES)
    assert all(MEDIA_TYPES[t].startswith("video/") for t in VIDEO_FILE_TYPES)
    assert all(MEDIA_TYPES[t].startswith("audio/") for t in AUDIO_FILE_TYPES)


# Each is formatted with the content directory and the video outside it: {content}, {outside}.
BAD_VIDEO_URLS = [
    pytest.param("media/missing.webm", id="file-that-does-not-exist"),
    pytest.param("media", id="a-directory"),
    pytest.param("../outside.webm", id="escapes-with-dot-dot"),
    pytest.param("media/../../outside.webm", id="escapes-through-a-folder"),
    pytest.param("{outside}", id="absolute-path-outside"),
    pytest.param("{content}/media/clip.webm", id="absolute-path-inside"),
    pytest.param("/media/clip.webm", id="the-served-address-instead-of-the-file"),
    pytest.param("media/linked.webm", id="symlink-out-of-the-content-directory"),
    pytest.param("lenses/the-testing-effect.md", id="a-markdown-file"),
    pytest.param("media/notes.txt", id="a-text-file"),
    pytest.param("media/clip.webm.md", id="media-name-then-other-extension"),
    pytest.param("media/\0clip.webm", id="nul-in-the-name"),
    pytest.param(f"media/{'a' * 300}.webm", id="name-too-long-for-the-file-system"),
    pytest.param("ftp://media.example.org/talk.mp4", id="ftp-url"),
    pytest.param("javascript:alert(1)", id="javascript-url"),
    pytest.param("javascript:alert(1)//clip.mp4", id="javascript-url-ending-like-media"),
    pytest.param("data:video/webm;base64,GkXfow==", id="data-url"),
    pytest.param("file:///etc/clip.webm", id="file-url"),
    pytest.param("//media.example.org/talk.mp4", id="protocol-relative-url"),
    pytest.param("https:///talk.mp4", id="web-address-without-host"),
    pytest.param("https://user:secret@media.example.org/talk.mp4", id="web-address-with-password"),
    pytest.param("https://media.example.org;script-src *;x/talk.mp4", id="web-address-injecting-policy"),
    pytest.param("https://media.example.org *;x/talk.mp4", id="web-address-with-space"),
    pytest.param("https://[media/talk.mp4", id="web-address-with-broken-ipv6-host"),
]


@pytest.mark.parametrize("video_url", BAD_VIDEO_URLS)
def test_a_video_url_that_is_neither_a_web_address_nor_a_media_file_in_the_content_is_refused(content, video_url):
    video_url = video_url.format(content=content, outside=content.parent / "outside.webm")
    error = refused(content, **video(video_url))
    assert (error.path, error.field) == (LENS, "video_url")
    assert str(error).startswith(f"{LENS}: video_url: ")
    assert repr(video_url) in str(error)


def test_the_app_refuses_to_start_on_a_missing_media_file(content):
    from tracker import create_app

    write_lens(content, "new-lens", **video("media/missing.webm"))
    with pytest.raises(ContentError, match="lenses/new-lens.md: video_url: 'media/missing.webm' is not a file"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRACKER_CONTENT_DIR": str(content), "SECRET_KEY": "x"})


# ---------------------------------------------------------------------------------------------
# estimate_minutes.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    pytest.param(0, id="zero"),
    pytest.param(-5, id="negative"),
    pytest.param(-0.5, id="negative-fraction"),
    pytest.param("12", id="a-string"),
    pytest.param("twelve", id="words"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param(10_000, id="ten-thousand"),
    pytest.param(1e12, id="huge"),
    pytest.param(float("inf"), id="infinite"),
    pytest.param(float("nan"), id="not-a-number"),
    pytest.param([12], id="a-list"),
    pytest.param({"minutes": 12}, id="a-mapping"),
])
def test_an_estimate_that_is_not_a_positive_number_of_minutes_is_refused(content, value):
    error = refused(content, estimate_minutes=value)
    assert (error.path, error.field) == (LENS, "estimate_minutes")
    assert str(error).startswith(f"{LENS}: estimate_minutes: must be a positive number of minutes")


@pytest.mark.parametrize("value", [12, 0.5, 9999.5])
def test_an_estimate_of_some_minutes_is_accepted(content, value):
    assert loaded_lens(content, estimate_minutes=value).estimate_minutes == value


# ---------------------------------------------------------------------------------------------
# Estimates, as the app shows them.
# ---------------------------------------------------------------------------------------------

TRANSCRIPT = words(1000, "said")  # 300 s if it were read
WITH_TRANSCRIPT = f"""{words(50, "look")}

## Transcript

{TRANSCRIPT}

### Questions from the audience

{words(200, "asked")}

```python
# a comment in a code block is not a heading
print("still the transcript")
```

## Afterwards

{words(49, "try")}
"""  # beyond the transcript: 50 words, the heading "Afterwards" and 49 words: 100 words, 30 s
TWO_TRANSCRIPTS = f"""{words(20)}

## Transcript, part one

{TRANSCRIPT}

## Between the parts

{words(16)}

## Transcript, part two

{TRANSCRIPT}
"""  # beyond the transcripts: 20 words, "Between the parts" and 16 words: 40 words, 12 s
NO_TRANSCRIPT_HEADING = f"{words(400, 'said')}\n\n## Notes\n\n{words(100)}"

LENSES = {
    # name: (front matter, body, expected estimate in seconds)
    "an-article": ({"type": "article"}, words(400), 120),
    "a-longer-article": ({"type": "article"}, words(401), 121),  # 120.3 s, rounded up
    "a-video-with-a-transcript": (video(duration_s=300), WITH_TRANSCRIPT, 330),
    "a-video-with-two-transcripts": (video(duration_s=300), TWO_TRANSCRIPTS, 312),
    "a-video-without-a-transcript-heading": (video(duration_s=300), NO_TRANSCRIPT_HEADING, 300),
    "an-audio-talk": (video("media/talk.ogg", duration_s=95), f"## Transcript\n\n{TRANSCRIPT}", 95),
    "an-article-estimated": ({"type": "article", "estimate_minutes": 12}, words(4000), 720),
    "a-video-estimated": (video(duration_s=3000, estimate_minutes=12), words(10), 720),
    "a-chat-estimated": ({"type": "chat", "tutor_instructions": "You are a tutor.", "estimate_minutes": 12}, "Hi.", 720),
    "a-tiny-estimate": ({"type": "article", "estimate_minutes": 0.001}, words(400), 1),
}


@pytest.fixture
def content_dir(content):
    for name, (front_matter, body, _) in LENSES.items():
        write_lens(content, name, body, **front_matter)
        place_lens(content, name)
    return content


def test_each_lens_s_estimate_in_the_module_state(client, make_learner):
    learner = make_learner()
    response = client.get(f"/api/modules/{MODULE}/progress", headers=learner.headers)
    assert response.status_code == 200
    estimated = {lens["name"]: lens["estimated_s"] for lens in response.json["lenses"]}
    assert {name: estimated[name] for name in LENSES} == {name: s for name, (_, _, s) in LENSES.items()}
    # The module's estimate adds them up with the demo's lenses, all of them required here.
    required = [lens for lens in response.json["lenses"] if not lens["optional"]]
    assert response.json["estimated_s"] == sum(lens["estimated_s"] for lens in required)
    assert response.json["estimated_s"] >= sum(s for _, _, s in LENSES.values())


@pytest.mark.parametrize("name, shown", [
    ("an-article-estimated", "about 12 min"),
    ("a-chat-estimated", "about 12 min"),
    ("a-video-with-a-transcript", "about 6 min"),  # 330 s
    ("a-video-without-a-transcript-heading", "about 5 min"),
    ("an-article", "about 2 min"),
])
def test_the_lens_page_and_the_module_outline_show_the_estimate(client, name, shown):
    lens_page = client.get(f"/modules/{MODULE}/{name}").get_data(as_text=True)
    assert re.search(rf"{LENSES[name][0]['type'].capitalize()}\s+· {shown}</p>", lens_page)
    module_page = client.get(f"/modules/{MODULE}").get_data(as_text=True)
    assert re.search(rf'/modules/{MODULE}/{name}"(?:(?!</li>).)*· {shown}', module_page, re.S)


def test_a_video_page_adds_no_transcript_heading_of_its_own_when_the_text_has_one(client):
    with_heading = client.get(f"/modules/{MODULE}/a-video-with-a-transcript").get_data(as_text=True)
    without = client.get(f"/modules/{MODULE}/a-video-without-a-transcript-heading").get_data(as_text=True)
    assert with_heading.count(">Transcript</h2>") == 1  # the lens's own, rendered from its Markdown
    assert "<h2>Transcript</h2>" in without
    assert without.count("said") == 400  # all of it is the transcript, shown in full
