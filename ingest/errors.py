"""How camera failures map onto :mod:`core.errors`, and why every one of them is retried.

Decision: a camera worker never gives up on its own. Every failure becomes a
:class:`core.errors.SourceError` (retryable), in two flavours:

* plain :class:`SourceError` / :class:`SourceTimeout`: the network, the camera or the NVR
  hiccuped. The worker reconnects with the exponential backoff that starts small.
* :class:`SourceRefused`: the source answered, but "no" (401/403 credentials, 404 wrong
  path, a replay file that does not exist, an unsupported protocol, no video stream). Retrying
  quickly cannot help, yet the fix happens *outside* Vigil (someone resets the camera's
  password, the NVR channel is re-created, the file is copied in) and nobody should have to
  restart the service afterwards. The worker therefore keeps retrying, but at the full
  ``backoff_cap`` every time, and the status detail says what a person has to fix.

FFmpeg error strings embed the URL (with its password); every message built here uses the
redacted URL instead (:func:`core.redact.redact_url`).
"""

from __future__ import annotations

import av
import av.error

from core.errors import SourceError, SourceTimeout
from core.redact import redact_url


class SourceRefused(SourceError):
    """The source answered but refused us; retried only at the capped backoff."""


_REFUSED: tuple[type[BaseException], ...] = (
    av.error.HTTPUnauthorizedError,
    av.error.HTTPForbiddenError,
    av.error.HTTPNotFoundError,
    av.error.ProtocolNotFoundError,
    av.error.DemuxerNotFoundError,
    av.error.DecoderNotFoundError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
)

_HINTS: dict[type[BaseException], str] = {
    av.error.HTTPUnauthorizedError: "unauthorized (401): check the camera username/password",
    av.error.HTTPForbiddenError: "forbidden (403): the account may not read this stream",
    av.error.HTTPNotFoundError: "not found (404): check the stream path/channel",
    av.error.ProtocolNotFoundError: "unsupported protocol in the URL",
    av.error.DecoderNotFoundError: "no decoder for this stream's codec",
}


def describe(exc: BaseException) -> str:
    """A short reason without the URL (FFmpeg puts the full URL, password included, in str())."""
    for kind, hint in _HINTS.items():
        if isinstance(exc, kind):
            return hint
    strerror = getattr(exc, "strerror", None)  # OSError and every av.FFmpegError
    if strerror:
        return str(strerror)
    return type(exc).__name__


def map_av_error(exc: BaseException, url: str) -> SourceError:
    """Translate a PyAV/OS exception raised while opening or reading ``url``."""
    if isinstance(exc, SourceError):
        return exc
    where = redact_url(url)
    reason = describe(exc)
    if isinstance(exc, av.error.TimeoutError | av.error.ExitError | TimeoutError):
        return SourceTimeout(f"{where}: no data within the timeout")
    if isinstance(exc, _REFUSED):
        return SourceRefused(f"{where}: {reason}")
    return SourceError(f"{where}: {reason}")
