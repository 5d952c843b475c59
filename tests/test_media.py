"""Video and audio lenses play media files: from the content directory at /media/, or from the web.

/media/ serves only the files that lenses play, with their content type and byte ranges;
nothing else in the content directory, whatever the path. The Content-Security-Policy lets
pages play media from the app and from the sites the content names, and from nowhere else.
"""
from html.parser import HTMLParser
from pathlib import Path

import pytest

from support.media import make_audio, make_webm, media_duration_s, place_lens, write_lens

MODULE = "how-memory-works"
CLIP, TALK = "media/clip.webm", "media/talk.ogg"
EXTERNAL = "https://media.example.org/talk.mp4"
NOT_PLAYED = "No lens plays or shows a file called"
# lens name: (front matter, body)
LENSES = {
    "watch-the-clip": ({"video_url": CLIP, "duration_s": 2}, "## Transcript\n\nA grey square slowly brightens."),
    "listen-to-the-talk": ({"video_url": TALK, "duration_s": 2}, "The speaker hums one long note."),
}


@pytest.fixture
def media_content(editable_content):
    """The demo content with a video and an audio lens that play files of the content directory."""
    make_webm(editable_content / CLIP, seconds=2)
    make_audio(editable_content / TALK, seconds=2)
    make_webm(editable_content / "media" / "unplayed.webm", seconds=1)
    for name, (front_matter, body) in LENSES.items():
        write_lens(editable_content, name, body, type="video", **front_matter)
        place_lens(editable_content, name)
    return editable_content


@pytest.fixture
def content_dir(media_content):
    return media_content


class Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str, tag: str) -> list[dict]:
    """The attributes of each `tag` element in a page."""
    return [attrs for name, attrs in Elements(html).found if name == tag]


def fetch(client, path: str, **kwargs):
    """GET a path, read the whole answer and close it, as a browser does with a file it is sent."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def media_policy(response) -> str:
    directives = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return directives["media-src"]


def test_the_test_media_files_are_real_and_as_long_as_asked(media_content):
    assert media_duration_s(media_content / CLIP) == pytest.approx(2, abs=0.1)
    assert media_duration_s(media_content / TALK) == pytest.approx(2, abs=0.1)


@pytest.mark.parametrize("lens, tag, src, transcript", [
    ("watch-the-clip", "video", f"/media/{CLIP}", "A grey square slowly brightens."),
    ("listen-to-the-talk", "audio", f"/media/{TALK}", "The speaker hums one long note."),
])
def test_a_lens_with_a_local_media_file_plays_it_in_the_page_with_its_transcript(client, lens, tag, src, transcript):
    response = client.get(f"/modules/{MODULE}/{lens}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    [player] = elements(html, tag)
    assert (player["src"], player["data-duration-s"], "controls" in player) == (src, "2", True)
    assert elements(html, "iframe") == []
    assert transcript in html
    assert html.count(">Transcript</h2>") == 1  # the lens's own heading, or the page's when it has none
    assert media_policy(response) == "'self'"


@pytest.mark.parametrize("path, content_type", [(CLIP, "video/webm"), (TALK, "audio/ogg")])
def test_the_player_s_src_serves_the_file_with_its_content_type(client, media_content, path, content_type):
    response = fetch(client, f"/media/{path}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.data == (media_content / path).read_bytes()
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("asked, first, last", [
    ("bytes=0-99", 0, 99),
    ("bytes=100-199", 100, 199),
    ("bytes=-50", -50, None),
    ("bytes=1000-", 1000, None),
])
def test_a_range_request_gets_206_with_the_bytes_asked_for(client, media_content, asked, first, last):
    data = (media_content / CLIP).read_bytes()
    expected = data[first:] if last is None else data[first:last + 1]
    response = fetch(client, f"/media/{CLIP}", headers={"Range": asked})
    assert response.status_code == 206
    assert response.data == expected
    start = first % len(data)
    assert response.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"


def test_a_range_beyond_the_end_of_the_file_gets_416(client, media_content):
    size = (media_content / CLIP).stat().st_size
    response = fetch(client, f"/media/{CLIP}", headers={"Range": f"bytes={size + 10}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


def test_a_second_request_for_an_unchanged_file_gets_304(client):
    first = fetch(client, f"/media/{CLIP}")
    again = fetch(client, f"/media/{CLIP}", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")


@pytest.mark.parametrize("path", [
    "lenses/watch-the-clip.md",
    "lenses/the-testing-effect.md",
    "modules/how-memory-works.md",
    "courses/study-skills.md",
    "media/unplayed.webm",
    "media",
    "media/clip.WEBM",
    "media/./clip.webm",
])
def test_a_file_no_lens_plays_is_not_served(client, path):
    response = fetch(client, f"/media/{path}")
    assert response.status_code == 404
    assert NOT_PLAYED in response.get_data(as_text=True)


TRAVERSALS = [
    "/media/../lenses/the-testing-effect.md",
    "/media/media/../../lenses/the-testing-effect.md",
    "/media/%2e%2e/lenses/the-testing-effect.md",
    "/media/%2E%2E%2Flenses%2Fthe-testing-effect.md",
    "/media/..%2flenses%2fthe-testing-effect.md",
    "/media/media%2f..%2f..%2flenses%2fthe-testing-effect.md",
    "/media/%252e%252e/lenses/the-testing-effect.md",
    "/media/..%5clenses%5cthe-testing-effect.md",
    "/media/..\\lenses\\the-testing-effect.md",
    "/media/media/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/media/%2fetc%2fpasswd",
    "/media//etc/passwd",
    "/media/media/clip.webm%00.md",
    "/media/%00",
    "/media/%c0%ae%c0%ae/lenses/the-testing-effect.md",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_that_climbs_out_gets_404_and_never_a_file(client, path):
    response = fetch(client, path, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "id:" not in body and "root:" not in body  # no front matter, no /etc/passwd


def test_an_external_media_file_plays_from_its_site_which_the_policy_then_allows(app, client, media_content):
    before = client.get(f"/modules/{MODULE}/watch-the-clip")
    assert media_policy(before) == "'self'"

    write_lens(media_content, "watch-the-talk-online", "## Transcript\n\nHello.", type="video",
               video_url=EXTERNAL, duration_s=600)
    place_lens(media_content, "watch-the-talk-online")
    assert app.extensions["tracker.content"].reload_if_changed()

    response = client.get(f"/modules/{MODULE}/watch-the-talk-online")
    [player] = elements(response.get_data(as_text=True), "video")
    assert player["src"] == EXTERNAL
    assert media_policy(response) == "'self' https://media.example.org"
    # The policy follows the content, on every page, not only the lens's own.
    assert media_policy(client.get(f"/modules/{MODULE}/watch-the-clip")) == "'self' https://media.example.org"
    assert media_policy(client.get("/")) == "'self' https://media.example.org"


def test_youtube_and_links_add_nothing_to_the_media_policy(app, client, media_content):
    write_lens(media_content, "a-youtube-talk", type="video", video_url="https://www.youtube.com/watch?v=O96fE1E-rf8",
               duration_s=60)
    write_lens(media_content, "a-talk-page", type="video", video_url="https://talks.example.org/about", duration_s=60)
    place_lens(media_content, "a-youtube-talk")
    place_lens(media_content, "a-talk-page")
    assert app.extensions["tracker.content"].reload_if_changed()

    youtube = client.get(f"/modules/{MODULE}/a-youtube-talk")
    [frame] = elements(youtube.get_data(as_text=True), "iframe")
    assert frame["src"] == "https://www.youtube-nocookie.com/embed/O96fE1E-rf8?enablejsapi=1"
    assert frame["data-tracker-player"] == "youtube"
    link = client.get(f"/modules/{MODULE}/a-talk-page").get_data(as_text=True)
    assert {"href": "https://talks.example.org/about", "rel": "noopener noreferrer"} in elements(link, "a")
    assert elements(link, "video") == elements(link, "audio") == []
    assert media_policy(youtube) == "'self'"


def test_a_file_whose_name_needs_quoting_in_a_url_is_played_and_served(app, client, media_content):
    make_webm(media_content / "media" / "clip #2?.webm", seconds=1)
    write_lens(media_content, "the-second-clip", type="video", video_url="media/clip #2?.webm", duration_s=1)
    place_lens(media_content, "the-second-clip")
    assert app.extensions["tracker.content"].reload_if_changed()

    [player] = elements(client.get(f"/modules/{MODULE}/the-second-clip").get_data(as_text=True), "video")
    assert player["src"] == "/media/media/clip%20%232%3F.webm"
    response = fetch(client, player["src"])
    assert (response.status_code, response.mimetype) == (200, "video/webm")
    assert response.data == (media_content / "media" / "clip #2?.webm").read_bytes()


class TestAContentDirectoryGivenRelativeToTheWorkingDirectory:
    """TRACKER_CONTENT_DIR=content, as a deployment's environment may well say."""

    @pytest.fixture
    def content_dir(self, media_content, monkeypatch):
        monkeypatch.chdir(media_content.parent)
        return Path(media_content.name)

    def test_its_media_files_are_served(self, app, client, media_content):
        assert not Path(app.config["TRACKER_CONTENT_DIR"]).is_absolute()
        response = fetch(client, f"/media/{CLIP}")
        assert response.status_code == 200
        assert response.data == (media_content / CLIP).read_bytes()
