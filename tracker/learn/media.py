"""Files of the content directory that lenses play (a video_url that is a file there) or show (an embedded image)."""
from pathlib import PurePosixPath

from flask import Blueprint, abort, send_from_directory

from tracker.app_state import content_index, content_store
from tracker.content.vault.loader import IMAGE_TYPES

bp = Blueprint("media", __name__)

# The host's mimetypes tables differ (without /etc/mime.types, .ogg and .m4a are unknown and would
# go out as application/octet-stream), so each type a lens may play is named here.
MEDIA_TYPES = {
    ".mp4": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg", ".mov": "video/quicktime", ".m4v": "video/mp4",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".m4a": "audio/mp4",
    ".wav": "audio/wav", ".flac": "audio/flac",
}


@bp.get("/media/<path:name>")
def file(name: str):
    """One media file a lens names; nothing else in the content directory is served."""
    index = content_index()
    if name not in index.media_files and name not in index.embedded_files:
        abort(404, f"No lens plays or shows a file called “{name}”.")
    # Flask takes a relative directory to be inside the app's package; the content directory is
    # relative to where the app started, as the loader read it.
    directory = content_store().directory.resolve()
    mimetype = (MEDIA_TYPES | IMAGE_TYPES).get(PurePosixPath(name).suffix.lower())
    # send_from_directory answers Range requests, so a player can seek without loading everything.
    return send_from_directory(directory, name, mimetype=mimetype, conditional=True, max_age=3600)
