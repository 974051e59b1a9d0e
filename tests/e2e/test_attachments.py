"""Evidence uploads: stored by hash, named in a transition's payload, refused by type and size."""
from __future__ import annotations

import hashlib
import io

from http_helpers import Caller, audit_rows, fire, report
from PIL import Image

from web import create_app


def image_bytes(fmt: str = "PNG", size=(8, 6), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **options)
    return out.getvalue()


PNG = image_bytes()


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
    assert attachment["name"] == "整改照片.png" and attachment["content_type"] == "image/png"
    stored = campus.store.instance / "attachments" / attachment["sha256"][:2] / attachment["sha256"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == attachment["sha256"]
    assert attachment["size"] == stored.stat().st_size
    moved = fire(as_("food"), finding["id"], "rectify", {"note": "已清理", "photos": [attachment["id"]]})
    assert moved.status_code == 200, moved.get_json()
    history = as_("food").get(f"/findings/{finding['id']}/history").get_json()
    assert history[-1]["payload"]["photos"] == [attachment["id"]]
    download = as_("inspector").get(response.headers["Location"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == stored.read_bytes() and download.mimetype == "image/png"
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


def test_photos_are_reencoded_upright_without_exif_and_heic_becomes_jpeg(as_, campus):
    import pillow_heif

    finding = assigned_finding(as_)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; the picture must be rotated 90° to stand upright
    exif[0x8825] = {2: (31.0, 14.0, 0.0), 4: (121.0, 29.0, 0.0)}  # GPS: where the inspector stood
    photo = upload(as_("food"), finding["id"], image_bytes("JPEG", (40, 20), exif=exif), "现场.jpg", "image/jpeg")
    assert photo.status_code == 201, photo.get_json()
    shown = as_("food").get(photo.headers["Location"].removeprefix("/api/v1"))
    with Image.open(io.BytesIO(shown.data)) as image:
        assert image.size == (20, 40) and not image.getexif()  # rotated upright; no orientation, no GPS
    assert shown.headers["Content-Disposition"].startswith("inline")
    shown.close()
    heic = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (16, 16), (0, 90, 200))).save(heic)
    converted = upload(as_("food"), finding["id"], heic.getvalue(), "IMG_0001.HEIC", "image/heic")
    assert converted.status_code == 201, converted.get_json()
    assert converted.get_json()["content_type"] == "image/jpeg" and converted.get_json()["name"] == "IMG_0001.jpg"


def test_html_behind_an_image_header_is_refused_and_downloads_never_run(as_):
    finding = assigned_finding(as_)
    polyglot = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(document.cookie)</script></html>"
    refused = upload(as_("food"), finding["id"], polyglot, "photo.png", "image/png")
    assert refused.status_code == 422 and "image/png" in refused.get_json()["errors"]["file"]
    pdf = upload(as_("food"), finding["id"], b"%PDF-1.4\n%%EOF\n", "整改报告.pdf", "application/pdf")
    download = as_("inspector").get(pdf.headers["Location"].removeprefix("/api/v1"))
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''%E6%95%B4%E6%94%B9" in disposition
    download.close()


def test_names_that_are_paths_or_carry_control_characters_are_refused(as_):
    finding = assigned_finding(as_)
    for name in ("..", ".", "../../etc/passwd", "photo\r\n.png", "a\x00.png", "\x1b[31mred.png"):
        refused = upload(as_("food"), finding["id"], PNG, name)
        assert refused.status_code == 422 and "file" in refused.get_json()["errors"], name
    assert as_("food").get(f"/findings/{finding['id']}/attachments").get_json() == []


def test_the_file_of_an_upload_whose_transaction_rolled_back_is_removed(as_, campus, monkeypatch):
    from engine import attachments

    finding = assigned_finding(as_)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away mid-upload")

    monkeypatch.setattr(attachments.Attachment, "__init__", fail)
    assert upload(as_("food"), finding["id"], PNG).status_code == 500
    assert [p for p in (campus.store.instance / "attachments").rglob("*") if p.is_file()] == []
