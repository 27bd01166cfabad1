"""The legal library's pages (`/library`: search and list; `/library/{entry}`: one entry, with the pack lines and
screening categories that cite it), readable by every signed-in role, and the links other pages draw into it:
a dial receipt's checks and the rule packs' source lines.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from aiohttp import web

from compliance.library import Entry, Library, load_library, split_source
from compliance.rulepack import load_packs
from console.pages import render
from console.validation import text

MAX_QUERY = 200


@cache
def library() -> Library:
    """The library shipped with this build, read once (it is data of the release, like the packs)."""
    return load_library()


def receipt_citations(receipt: dict[str, Any]) -> dict[str, list[Entry]]:
    """For each check of a stored receipt, the library entries its pack cites for that rule."""
    pack = (receipt.get("pack") or {}).get("name")
    if not pack:
        return {}
    shelf = library()
    return {check["rule"]: shelf.for_check(pack, check["rule"]) for check in receipt.get("checks", [])}


def receipt_library_version(receipt: dict[str, Any]) -> str | None:
    """The library version documenting the receipt's pack version; None when this build's library does not (an
    older receipt: its links show today's texts)."""
    pack = receipt.get("pack") or {}
    shelf = library()
    return shelf.version if pack.get("name") and shelf.documents(pack["name"], str(pack.get("version", ""))) else None


def pack_citations() -> dict[str, list[tuple[str, list[Entry]]]]:
    """Each pack's source lines as (text, the entries it cites), for the rule-pack page."""
    shelf = library()
    return {name: [(line, [shelf.entries[entry_id] for entry_id in cites])
                   for line, cites in map(split_source, pack.sources)]
            for name, pack in load_packs().items()}


async def library_page(request: web.Request) -> web.Response:
    query = text(request.query.get("q", ""), "q", max_length=MAX_QUERY).strip()
    shelf = await asyncio.to_thread(library)
    return await render(request, "library.html", query=query, found=shelf.search(query), total=len(shelf.entries),
                        version=shelf.version, pack_versions=sorted(shelf.pack_versions.items()))


async def entry_page(request: web.Request) -> web.Response:
    shelf = await asyncio.to_thread(library)
    entry = shelf.entries.get(request.match_info["entry"])
    if entry is None:
        raise web.HTTPNotFound()
    lines, categories = shelf.cited_by(entry.id)
    return await render(request, "library_entry.html", entry=entry, lines=lines, categories=categories,
                        version=shelf.version)


def add_library_routes(app: web.Application) -> None:
    app.router.add_get("/library", library_page)
    app.router.add_get("/library/{entry}", entry_page)
