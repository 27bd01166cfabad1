"""`GET /api/subjects/{debtor}/export`: an administrator's subject-access export of one debtor
(`cases.subject_export`), as JSON, or with `?format=zip` a zip adding the call recordings (decrypted when
sealed, with the installation's master keys). Audited in the same transaction as it is read.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from cases import Store
from cases.subject_export import SubjectExport, SubjectNotFound, export_subject, to_json, write_zip
from console.access import acting_user
from console.common import ClockKey, StoreKey
from console.review import MasterKeysKey, RecordingsKey, recording_file
from console.validation import choice, text
from crypto import CryptoError, MasterKeys
from recordings.storage import open_recording


def _export(store: Store, ref: str, actor: str, now: datetime, via: str) -> SubjectExport:
    with store.session() as session:
        try:
            return export_subject(session, ref, actor=actor, now=now, via=via)
        except SubjectNotFound:
            raise web.HTTPNotFound(reason=f"no debtor {ref!r}") from None


def recording_reader(recordings: Path | None, keys: MasterKeys | None) -> Callable[[str], bytes | None]:
    """A reader for `write_zip`: a recording's plain bytes, None when it is outside the recordings directory,
    gone, or cannot be opened."""
    def read(stored: str) -> bytes | None:
        if recordings is None:
            return None
        path = recording_file(recordings, stored)
        if path is None:
            return None
        try:
            reader = open_recording(path, keys)
        except (CryptoError, OSError):
            return None
        try:
            return reader.read()
        except (CryptoError, OSError):
            return None
        finally:
            reader.close()
    return read


def _zip(export: SubjectExport, recordings: Path | None, keys: MasterKeys | None) -> bytes:
    out = io.BytesIO()
    write_zip(export, out, recording_reader(recordings, keys))
    return out.getvalue()


async def subject_export(request: web.Request) -> web.Response:
    ref = text(request.match_info["debtor"], "debtor", max_length=64)
    form = choice(request.query.get("format", "json"), "format", ("json", "zip"))
    export = await asyncio.to_thread(_export, request.app[StoreKey], ref, acting_user(request).username,
                                     request.app[ClockKey](), f"api {form}")
    headers = {"Cache-Control": "no-store",
               "Content-Disposition": f'attachment; filename="subject-{export.debtor_id}.{form}"'}
    if form == "json":
        return web.Response(text=to_json(export), content_type="application/json", headers=headers)
    body = await asyncio.to_thread(_zip, export, request.app.get(RecordingsKey), request.app.get(MasterKeysKey))
    return web.Response(body=body, content_type="application/zip", headers=headers)


def add_subject_routes(app: web.Application) -> None:
    app.router.add_get("/api/subjects/{debtor}/export", subject_export)
