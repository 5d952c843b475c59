"""Short, real media files made at test time, and lenses that play them.

make_webm writes VP8 video in WebM; make_audio writes Opus in Ogg (.ogg, .opus) or MP3 (.mp3).
Both are formats Chromium plays; PyAV's wheels bundle ffmpeg's encoders, so no binary is
committed. media_duration_s reads a file back to check what was written. write_lens and
place_lens add a lens to a copy of the content.
"""
import array
import math
import uuid
from fractions import Fraction
from pathlib import Path

import av
import frontmatter

FPS = 10
AUDIO_RATE = 48_000
AUDIO_CODECS = {".ogg": ("ogg", "libopus"), ".opus": ("ogg", "libopus"), ".mp3": ("mp3", "libmp3lame")}


def make_webm(path: Path, seconds: float = 2, size: tuple[int, int] = (64, 48)) -> Path:
    """A silent VP8 WebM of `seconds`, a grey picture that brightens frame by frame."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in range(round(seconds * FPS)):
            container.mux(stream.encode(video_frame(size, brightness=40 + i * 4 % 180, pts=i)))
        container.mux(stream.encode())
    return path


def video_frame(size: tuple[int, int], brightness: int, pts: int) -> av.VideoFrame:
    frame = av.VideoFrame(*size, "yuv420p")
    for plane, value in zip(frame.planes, (brightness, 128, 128)):
        plane.update(bytes([value]) * plane.buffer_size)
    frame.pts, frame.time_base = pts, Fraction(1, FPS)
    return frame


def make_audio(path: Path, seconds: float = 2, tone_hz: float = 440) -> Path:
    """A mono sine tone of `seconds`: Opus in Ogg for .ogg and .opus, MP3 for .mp3."""
    container_format, codec = AUDIO_CODECS[path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=AUDIO_RATE, layout="mono")
        samples = round(seconds * AUDIO_RATE)
        tone = array.array("h", (round(8000 * math.sin(2 * math.pi * tone_hz * n / AUDIO_RATE)) for n in range(samples)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(tone.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, 0, Fraction(1, AUDIO_RATE)
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def media_duration_s(path: Path) -> float:
    """How long a media file plays, from the timestamps of the frames it decodes to."""
    with av.open(str(path)) as container:
        stream = container.streams[0]
        end = max(frame.time + (frame.duration or 0) * frame.time_base for frame in container.decode(stream))
        return float(end)


def write_lens(content: Path, name: str, body: str = "A few words.", **front_matter) -> Path:
    """A new lens file, lenses/<name>.md, with a fresh id; an article unless `type` says otherwise."""
    metadata = {"id": str(uuid.uuid4()), "title": name.replace("-", " ").capitalize(), "type": "article", **front_matter}
    path = content / "lenses" / f"{name}.md"
    path.write_text(frontmatter.dumps(frontmatter.Post(body, **metadata)) + "\n", encoding="utf-8")
    return path


def place_lens(content: Path, name: str, module: str = "how-memory-works", outcome: int = 0) -> None:
    """Add the lens at the end of one learning outcome of a module."""
    path = content / "modules" / f"{module}.md"
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    post.metadata["outcomes"][outcome]["lenses"].append(name)
    path.write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")
