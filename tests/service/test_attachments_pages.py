"""The staff pages carry the attachments' section and the counter's scan inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def sign_in(client, username):
    page = client.get("/dang-nhap")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    response = client.post("/dang-nhap", data={"username": username, "password": PASSWORD,
                                               "csrf": token}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text


def test_the_dossier_page_has_the_attachments_section_and_the_counter_its_scans(client):
    code = client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk")
                       ).json()["code"]
    sign_in(client, "clerk")
    page = client.get(f"/ho-so/{code}")
    assert page.status_code == 200
    assert "Tài liệu đính kèm" in page.text and 'id="attachment-form"' in page.text
    counter = client.get("/quay")
    assert counter.status_code == 200 and "Bản quét" in counter.text
