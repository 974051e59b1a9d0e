"""A slow client must not stall others: a half-sent upload holds no database lock on a real server."""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from live import call, live_server

from engine import services


def test_a_stalled_upload_does_not_delay_a_transition_on_another_finding(campus, db_url, tmp_path):
    with campus.store.uow() as uow:
        ids = [services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=f"宿舍{n}号楼消防通道堵塞", category="安全", location=f"宿舍{n}号楼", unit="PROP")).id
            for n in (1, 2)]
        uow.commit()
    with live_server(db_url, tmp_path) as base:
        url = urlsplit(base)
        boundary = "xunchaboundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"现场.jpg\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff" + b"\0" * 1000
        with socket.create_connection((url.hostname, url.port), timeout=30) as slow:
            slow.sendall((f"POST /api/v1/findings/{ids[0]}/attachments HTTP/1.1\r\nHost: {url.netloc}\r\n"
                          f"Authorization: Bearer {campus.tokens['inspector']}\r\n"
                          f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                          f"Content-Length: {len(head) * 2}\r\n\r\n").encode() + head)  # half the body, then silence
            time.sleep(0.5)  # the server has authenticated the upload and waits for the rest
            started = time.monotonic()
            status, body = call(f"{base}/findings/{ids[1]}/transitions", campus.tokens["inspector"], method="POST",
                                body={"event": "assign", "payload": {}}, timeout=20)
            took = time.monotonic() - started
        assert status == 200 and body["state"]["name"] == "assigned", body
        assert took < 3, f"the transition waited {took:.1f} s behind the stalled upload"
