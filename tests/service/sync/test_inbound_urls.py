"""Portal dossiers whose files are given by address (``DuongDanTaiTepTin``): MotCua fetches
them with a time and size limit and checks them by content, from a local HTTP server here."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from engine.files.models import Attachment
from tests.service.sync.test_inbound import EXE, PDF, dossier, inbound, send, stored  # noqa: F401

PAGES = {"/to-khai.pdf": PDF, "/virus.pdf": EXE, "/big.pdf": b"%PDF-1.4\n" + b"x" * 4000}


class Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.pdf":
            time.sleep(1.5)
        if self.path == "/moved.pdf":
            self.send_response(302)
            self.send_header("Location", "/to-khai.pdf")
            self.end_headers()
            return
        data = PAGES.get(self.path, PDF if self.path == "/slow.pdf" else None)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def files_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetching(inbound, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MOTCUA_SYNC_FETCH_ALLOW_HTTP", "1")  # the local server has no TLS
    monkeypatch.setenv("MOTCUA_SYNC_FETCH_TIMEOUT", "0.5")
    return inbound


def by_url(url: str) -> dict:
    return dossier(TaiLieuNop=[{"MaThanhPhanHoSo": "1", "TenTepDinhKem": "to-khai.pdf",
                                "DuongDanTaiTepTin": url}])


def test_a_file_given_by_address_is_fetched_checked_and_stored(fetching, files_server):
    response = send(fetching, by_url(files_server + "/to-khai.pdf"))
    assert response.status_code == 201, response.text
    file = response.json()["files"][0]
    assert (file["size"], file["media_type"]) == (len(PDF), "application/pdf")
    with Session(fetching.app.state.engine) as session:
        assert session.exec(select(Attachment)).one().sha256 == file["sha256"]


@pytest.mark.parametrize(("path", "status", "kind", "words"), [
    ("/virus.pdf", 415, "file-type", "không phải PDF"),
    ("/missing.pdf", 422, "file-unavailable", "HTTP 404"),
    ("/moved.pdf", 422, "file-unavailable", "HTTP 302"),
    ("/slow.pdf", 422, "file-unavailable", "0.5 giây"),
])
def test_a_file_that_cannot_be_fetched_or_is_not_a_document_stores_nothing(
        fetching, files_server, path, status, kind, words):
    response = send(fetching, by_url(files_server + path))
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"].endswith("/" + kind) and words in problem["detail"], problem
    assert problem["errors"][0]["field"] == "TaiLieuNop.0"
    assert stored(fetching) == (0, 0)


def test_a_fetched_file_past_the_limit_and_a_plain_http_address_are_refused(
        fetching, files_server, monkeypatch):
    from engine.files.settings import file_settings
    from engine.files.store import LocalBlobStore

    monkeypatch.setenv("MOTCUA_FILE_MAX_MB", "0.002")  # 2 KB; the file is 4 KB
    settings = file_settings()
    fetching.app.state.files = (settings, LocalBlobStore(settings.root))
    too_big = send(fetching, by_url(files_server + "/big.pdf"))
    assert too_big.status_code == 413 and too_big.json()["type"].endswith("/file-too-large")
    monkeypatch.delenv("MOTCUA_SYNC_FETCH_ALLOW_HTTP")
    plain = send(fetching, by_url(files_server + "/to-khai.pdf"))
    assert plain.status_code == 422 and "https" in plain.json()["detail"]
    assert stored(fetching) == (0, 0)
