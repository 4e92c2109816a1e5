"""core.redact: camera URLs lose their credentials, in the userinfo and in the query string
(issue 11, item 9), and nothing else about them changes."""

from __future__ import annotations

import pytest

from core.redact import redact_url


@pytest.mark.parametrize(("url", "shown"), [
    ("rtsp://admin:secret@10.0.0.5:554/sub", "rtsp://***@10.0.0.5:554/sub"),
    ("http://nvr/live.m3u8?token=abc123", "http://nvr/live.m3u8?token=***"),
    ("rtsp://10.0.0.5/ch1?user=admin&password=s3cr3t&channel=1",
     "rtsp://10.0.0.5/ch1?user=admin&password=***&channel=1"),
    ("rtsp://h/x?passwd=a&pwd=b&key=c&secret=d&auth=e&sig=f",
     "rtsp://h/x?passwd=***&pwd=***&key=***&secret=***&auth=***&sig=***"),
    ("https://cdn/x.m3u8?X-Amz-Signature=ab&X-Amz-Credential=cd&v=2",
     "https://cdn/x.m3u8?X-Amz-Signature=***&X-Amz-Credential=***&v=2"),
    ("http://gw/api?access_token=t&api_key=k&ACCESSTOKEN=u",
     "http://gw/api?access_token=***&api_key=***&ACCESSTOKEN=***"),
    ("rtsp://u:p@h/x?Token=T#frag", "rtsp://***@h/x?Token=***#frag"),
    ("rtsp://127.0.0.1:8554/cam", "rtsp://127.0.0.1:8554/cam"),
    ("rtsp://h/x?channel=1&subtype=0", "rtsp://h/x?channel=1&subtype=0"),
    ("file:///var/demo/demo.mp4", "file:///var/demo/demo.mp4"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
