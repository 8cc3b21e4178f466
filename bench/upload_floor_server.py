"""The bare HTTP floor of ``bench/uploads.py``: the same server stack (uvicorn, FastAPI,
Starlette's multipart parser) receiving the same form, each file written with ``fsync`` and
one committed INSERT per file — the benchmark's disk floor behind HTTP, and nothing of
MotCua (no rate limit, proof of work, hashing, dossier or message).

It answers how much of the distance between a submission and the disk floor is the HTTP
stack itself, so that the submission's own cost can be read against it. Started by
``bench/uploads.py``; by hand::

    FLOOR_DATABASE_URL=sqlite:///x.db FLOOR_DIR=/tmp/f python bench/upload_floor_server.py 8799
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py would shadow the standard library's calendar: drop this folder, add the root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import os  # noqa: E402
import secrets  # noqa: E402

import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from starlette.datastructures import UploadFile  # noqa: E402

from engine.settings import normalize_database_url  # noqa: E402

TABLE = "bench_http_floor"


def floor_write(engine: Engine, table: str, folder: Path, n: int, prefix: str,
                data: bytes) -> None:
    """The disk floor's work for one file: written and synced under a new name, then one
    committed INSERT. Shared with ``bench/uploads.py``'s floor, so that the bare HTTP floor
    does exactly that work and nothing else."""
    name = f"{prefix}{n}-{secrets.token_hex(4)}"
    with open(folder / name, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    with engine.begin() as c:
        c.execute(text(f"INSERT INTO {table} (id, name, size) VALUES (:i, :n, :s)"),
                  {"i": n, "n": name, "s": len(data)})


def make_app(database_url: str, folder: Path) -> FastAPI:
    engine = create_engine(normalize_database_url(database_url))
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
                       "name VARCHAR(64), size INTEGER)"))
    folder.mkdir(parents=True, exist_ok=True)
    app = FastAPI()
    count = 0

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/up")
    async def up(request: Request) -> dict[str, int]:
        """Every file of the form to disk (synced), one INSERT each, as the disk floor does."""
        nonlocal count
        form = await request.form()
        try:
            for value in form.values():
                if not isinstance(value, UploadFile):
                    continue
                count += 1
                floor_write(engine, TABLE, folder, count, "h", await value.read())
        finally:
            await form.close()
        return {"stored": count}

    return app


if __name__ == "__main__":
    uvicorn.run(make_app(os.environ["FLOOR_DATABASE_URL"], Path(os.environ["FLOOR_DIR"])),
                host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
