"""`dunline library search TEXT`: the legal library (compliance/library) from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from dunline.cli.context import console, fail

library_app = typer.Typer(help="The legal library (法律法规库): the texts the rule packs cite.", no_args_is_help=True)


@library_app.command("search")
def library_search(text: str = typer.Argument("", help="words (zh or en), a citation such as 1006.14, or a rule "
                                                   "name such as calling_window; empty: every entry"),
                   lang: str = typer.Option("en", help="zh or en: the language of titles and texts")) -> None:
    """Entries holding every word, best first, with their citation, effective date and source."""
    from compliance.library import LibraryError, load_library

    if lang not in ("zh", "en"):
        raise fail("--lang must be zh or en")
    try:
        library = load_library()
    except LibraryError as error:
        raise fail(str(error)) from None
    found = library.search(text)
    table = Table(title=f"legal library {library.version}: {len(found)} of {len(library.entries)}")
    for column in ("id", "citation", "title", "effective", "source"):
        table.add_column(column, overflow="fold")
    for entry in found:
        table.add_row(entry.id, entry.citation, entry.title.pick(lang), entry.effective, entry.source)
    console.print(table)
    if len(found) == 1:
        console.print(found[0].text.pick(lang), markup=False, highlight=False)
