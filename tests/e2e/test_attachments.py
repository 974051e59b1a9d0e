"""Evidence uploads: stored by hash, named in a transition's payload, refused by type and size."""
from __future__ import annotations

import hashlib
import io

from http_helpers import Caller, audit_rows, fire, report

from web import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def upload(caller: Caller, finding_id: int, content: bytes, name: str = "整改照片.png",
           content_type: str = "image/png"):
    return caller.post(f"/findings/{finding_id}/attachments", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), name, content_type)})


def assigned_finding(as_) -> dict:
    finding = report(as_("inspector"))
    fire(as_("inspector"), finding["id"], "assign")
    return finding


def test_upload_then_name_it_in_a_transition(as_, campus):
    finding = assigned_finding(as_)
    response = upload(as_("food"), finding["id"], PNG)
    assert response.status_code == 201
    attachment = response.get_json()
    assert attachment["sha256"] == hashlib.sha256(PNG).hexdigest() and attachment["size"] == len(PNG)
    assert attachment["name"] == "整改照片.png" and attachment["content_type"] == "image/png"
    stored = campus.store.instance / "attachments" / attachment["sha256"][:2] / attachment["sha256"]
    assert stored.read_bytes() == PNG
    moved = fire(as_("food"), finding["id"], "rectify", {"note": "已清理", "photos": [attachment["id"]]})
    assert moved.status_code == 200, moved.get_json()
    history = as_("food").get(f"/findings/{finding['id']}/history").get_json()
    assert history[-1]["payload"]["photos"] == [attachment["id"]]
    download = as_("inspector").get(response.headers["Location"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    download.close()
    listed = as_("inspector").get(f"/findings/{finding['id']}/attachments").get_json()
    assert [a["id"] for a in listed] == [attachment["id"]]


def test_an_attachment_of_another_finding_is_refused_in_the_payload(as_, campus):
    finding, other = assigned_finding(as_), assigned_finding(as_)
    foreign = upload(as_("food"), other["id"], PNG).get_json()
    response = fire(as_("food"), finding["id"], "rectify", {"note": "n", "photos": [foreign["id"]]})
    assert response.status_code == 422 and "photos" in response.get_json()["errors"]
    assert audit_rows(campus, finding["id"]) == 2


def test_wrong_type_or_disguised_content_is_422(as_):
    finding = assigned_finding(as_)
    exe = upload(as_("food"), finding["id"], b"MZ\x90\x00binary", "tool.exe", "application/x-msdownload")
    assert exe.status_code == 422 and "file" in exe.get_json()["errors"]
    disguised = upload(as_("food"), finding["id"], b"<script>alert(1)</script>", "photo.png", "image/png")
    assert disguised.status_code == 422 and "not image/png" in disguised.get_json()["errors"]["file"]
    assert upload(as_("food"), finding["id"], b"", "empty.png").status_code == 422
    missing = as_("food").post(f"/findings/{finding['id']}/attachments", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]
    assert as_("food").get(f"/findings/{finding['id']}/attachments").get_json() == []


def test_too_large_is_413(campus):
    client = create_app({"STORE": campus.store, "TESTING": True, "ATTACHMENT_MAX_BYTES": 100,
                         "MAX_CONTENT_LENGTH": 4096}).test_client()
    inspector, food = Caller(client, campus.tokens["inspector"]), Caller(client, campus.tokens["food"])
    finding = report(inspector)
    over_attachment_limit = upload(food, finding["id"], PNG + bytes(100))
    assert over_attachment_limit.status_code == 413
    assert over_attachment_limit.mimetype == "application/problem+json"
    assert upload(food, finding["id"], PNG + bytes(5000)).status_code == 413  # over the request limit
    assert food.get(f"/findings/{finding['id']}/attachments").get_json() == []
    assert not list((campus.store.instance / "attachments").rglob("*"))  # no partial file left behind


def test_upload_is_scoped_and_refused_to_auditors(as_):
    finding = assigned_finding(as_)
    assert upload(as_("prop"), finding["id"], PNG).status_code == 404
    assert upload(as_("auditor"), finding["id"], PNG).status_code == 403
    assert upload(as_(None), finding["id"], PNG).status_code == 401
