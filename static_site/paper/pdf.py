"""HTML from the paper templates and PDF from the HTML with WeasyPrint (Cyrillic fonts embedded).

ALGORITHM of a numbered document (journal copy, summary sheet):
1. Render the HTML without a page count, lay it out, count the pages.
2. Render again stating that count on the title page; repeat while the count moves (at most 3 times).
ALGORITHM of slips (never split across sheets, two per sheet when they fit):
1. Each slip is one unbreakable block (`break-inside: avoid`), so short slips share a sheet.
2. Lay out; a slip whose start and end anchors fall on different pages gets a smaller type (its level);
   lay out again, at most LEVELS times. A slip too long even in the smallest type starts on the front of
   a sheet, so that printed on both sides it still stays on one sheet.
SPEED: a document holds many slips (a class's, or a whole journal copy), and the font configuration is made
once per process and shared by every document, so fonts are looked up once and combined documents embed one
set of font subsets. Layout makes millions of small objects that live as long as the document; Python's
default collector thresholds would walk all of them again and again in full collections (about 15 % of a
class's slips), so collections are made rarer while a document is laid out or written (`app.base.gcpause`).
SPEED on several cores (a whole school's week): each class's slips are one document, laid out and written as PDF
by forked processes a class at a time, and the classes' PDFs joined page after page with pypdf (a well-kept
pure-Python PDF library: WeasyPrint cannot take pages laid out in another process, and joining PDFs by hand would
mean rewriting their object tables). Each class document keeps its own page numbering («стр. 3 из 5»), as
before; each embeds its own font subsets, so a whole school's file is larger than one document would be.
REUSE (`PartCache`): a class document whose HTML did not change since it was last printed is not laid out again.
Its PDF is kept in a private folder of the hub (var/paper-cache) under the SHA-256 of everything the PDF is
made from: the HTML laid out first (the journal's content, the type levels guessed, the stylesheet inline) and
the versions of WeasyPrint, pydyf and Pango. WeasyPrint writes the same bytes for the same input (no date or
random id in the file), so a PDF from the cache is byte for byte the one a new layout would write
(tests/test_paper_slips.py checks it; a class laid out in halves, static_site.paper.slips SPLIT, is stored as
joined, the same pages). Entries unused for CACHE_DAYS are deleted; deleting the folder is safe.
PARSING: the slips template is well-formed XML as well as HTML, with the tree an HTML5 parser builds from it, so
the slips are parsed by expat (in C) instead of WeasyPrint's pure-Python HTML5 parser: the same tree, the same
PDF (`xhtml_document`); a text expat refuses (a control character) goes to WeasyPrint's parser.
WeasyPrint needs pango and harfbuzz from the system. Without them the HTML still works and the PDF
commands say, in Russian, what to install (INSTALL).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app.base.gcpause import fewer_collections
from app.base.permissions import private_dir
from static_site.paper.lookup import PaperError, write_private

TEMPLATES = Path(__file__).resolve().parent / "templates"
INSTALL = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
PASSES = 3
CACHE_DAYS = 60  # a cached class document unused this long is deleted
DOCTYPE = "<!doctype html>"  # left out for the XML parser (xhtml_document)
WEASYPRINT = "weasyprint"  # the module imported for PDFs (a test names a missing one)



class PdfUnavailable(PaperError):
    """WeasyPrint or its system libraries are missing: the message says what to install."""


@cache
def environment() -> Environment:
    """The Jinja environment of the paper templates (autoescaped: names and texts come from the journal)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["css"] = Markup((TEMPLATES / "paper.css").read_text(encoding="utf-8"))  # our own file, not data
    env.filters["css_string"] = css_string
    return env


def css_string(text: str) -> Markup:
    """Text as a quoted CSS string, safe inside a <style> element (for page footers)."""
    cleaned = "".join(ch for ch in str(text) if ch not in '<>\\"' and ch.isprintable())
    return Markup(f'"{cleaned}"')


def render_html(template: str, **context: Any) -> str:
    """A whole printable HTML page: the stylesheet inline, so the file can be opened and printed anywhere."""
    return environment().get_template(template).render(**context)


def _weasyprint() -> Any:
    try:
        weasyprint = importlib.import_module(WEASYPRINT)
    except (ImportError, OSError) as exc:  # OSError: the module is there, pango is not
        raise PdfUnavailable(
            "PDF не создан: не хватает WeasyPrint или его системных библиотек "
            f"({str(exc).splitlines()[0][:120]}). Установите их: sudo apt-get install {INSTALL} "
            "и pip install -r requirements.txt. Пока можно сохранить документ как HTML (--out файл.html) "
            "и напечатать его из браузера.") from None
    return weasyprint


def pdf_or_html(make_pdf: Callable[[], bytes], make_html: Callable[[], str],
                as_pdf: bool | None = None) -> tuple[bytes, bool]:
    """A document as PDF or as printable HTML, and whether it is a PDF: the one place that chooses.

    `as_pdf` None (the staff pages): a PDF whenever this machine can make one, else HTML. True (a command asked
    for a .pdf file): a PDF, or PdfUnavailable saying what to install. False: HTML.
    """
    if as_pdf is None:
        as_pdf = pdf_missing() is None
    elif as_pdf:
        _weasyprint()
    return (make_pdf(), True) if as_pdf else (make_html().encode(), False)


def pdf_missing() -> str | None:
    """Why PDFs cannot be made on this machine, or None when they can."""
    try:
        _weasyprint()
    except PdfUnavailable as exc:
        return str(exc)
    return None


@cache
def font_config() -> Any:
    """WeasyPrint's font configuration, made once per process and shared by every document."""
    return importlib.import_module(f"{WEASYPRINT}.text.fonts").FontConfiguration()


@cache
def paper_stylesheet() -> Any:
    """paper.css parsed by WeasyPrint once per process (about 60 ms a document otherwise: see `layout`)."""
    return _weasyprint().CSS(string=str(environment().globals["css"]), base_url=str(TEMPLATES),
                             font_config=font_config())


def layout(html: str, xhtml: bool = False) -> Any:
    """The laid-out document (WeasyPrint's Document: pages with their anchors); `xhtml`: the HTML is written
    to be well-formed XML too (the slips), so it is parsed by the XML parser (see `xhtml_document`).

    Our HTML carries paper.css inline (a file printable anywhere), which WeasyPrint would parse again for every
    document; it is taken out of the HTML laid out and given as the stylesheet parsed once instead. Given so it
    is a user stylesheet: it still comes after WeasyPrint's own and before the rules left in the document (the
    page footers), as where it stood, and no rule of it is !important (the one place the two differ), so the
    pages are the same (tests/test_paper_slips.py compares the PDFs)."""
    weasyprint = _weasyprint()
    css = str(environment().globals["css"])
    sheets = []
    if css in html:
        html, sheets = html.replace(css, "", 1), [paper_stylesheet()]
    with fewer_collections():
        document = (xhtml_document(html) if xhtml else None) or weasyprint.HTML(string=html, base_url=str(TEMPLATES))
        return document.render(font_config=font_config(), stylesheets=sheets)


def xhtml_document(html: str) -> Any:
    """WeasyPrint's HTML document of our markup parsed by the XML parser (expat, in C), or None when expat refuses
    it (a control character in a journal entry: WeasyPrint's own parser then, as for any other text).

    WeasyPrint parses HTML with tinyhtml5, in pure Python: 8–9 % of the instructions of laying out and writing a
    slip. A template written as well-formed XML whose tree is the one the HTML5 parser builds from it (void
    elements closed, `<tbody>` written out, no text between `<html>` and `<head>` or after `</body>`; every text
    escaped by Jinja, no DTD) gives WeasyPrint the same tree, so the same PDF (tests/test_paper_slips.py compares
    the trees and the PDFs). The document is made by WeasyPrint's own constructor from an empty page, so it has
    whatever that sets, and given our tree instead (`wrapper_element` and `etree_element`, set as it sets them)."""
    try:
        root = ElementTree.fromstring(html.removeprefix(DOCTYPE))
    except ElementTree.ParseError:
        return None
    document = _weasyprint().HTML(string="<html></html>", base_url=str(TEMPLATES))
    document.wrapper_element = importlib.import_module("cssselect2").ElementWrapper.from_html_root(
        root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


def to_pdf(document: Any) -> bytes:
    """The PDF bytes of a laid-out document."""
    with fewer_collections():
        data: bytes = document.write_pdf(hinting=True)  # keeping the fonts' hinting skips a slow subsetting step
    return data


def combine(documents: Sequence[Any]) -> bytes:
    """One PDF of several laid-out documents, page after page."""
    if not documents:
        raise PaperError("Нечего печатать: документ пуст.")
    pages = [page for document in documents for page in document.pages]
    return to_pdf(documents[0].copy(pages))


PartTask = Callable[[], tuple[bytes, int]]  # makes one part: its PDF bytes and its pages
T = TypeVar("T")
_tasks: list[Callable[[], Any]] = []  # the parts of the run in progress, inherited by the forked processes


def _part(index: int) -> Any:
    return _tasks[index]()


def in_processes(tasks: Sequence[Callable[[], T]], processes: int) -> list[T]:
    """Make each part, in forked processes (at most `processes` at once, a part at a time) when there are
    several; the parts in order. Only from a process without threads (a command, not the threaded web server)."""
    if processes <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    _tasks[:] = tasks
    try:
        with multiprocessing.get_context("fork").Pool(min(processes, len(tasks))) as pool:
            return pool.map(_part, range(len(tasks)), chunksize=1)
    finally:
        _tasks.clear()


def slip_boxes(page: Any) -> list[Any]:
    """The boxes of the slips (`<section class="slip">`) on a laid-out page, top to bottom."""
    found = []
    for box in page._page_box.descendants():  # noqa: SLF001 (WeasyPrint's documented page box)
        element = getattr(box, "element", None)
        if box.element_tag == "section" and element is not None and "slip" in element.get("class", "").split():
            found.append(box)
    return found


def join(pdfs: Iterable[bytes]) -> bytes:
    """Several PDFs as one, page after page (pypdf); each is appended as soon as it is there (`pdfs` may be a
    generator waiting on the processes making them), so joining overlaps making the next ones."""
    parts = iter(pdfs)
    first = next(parts, None)
    if first is None:
        raise PaperError("Нечего печатать: документ пуст.")
    second = next(parts, None)
    if second is None:
        return first
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in itertools.chain((first, second), parts):
        writer.append(io.BytesIO(data))
    metadata = PdfReader(io.BytesIO(first)).metadata
    if metadata:
        writer.add_metadata(dict(metadata))  # the document's title and producer, as one document would have
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@contextlib.contextmanager
def forked_pool(processes: int) -> Iterator[Any]:
    """A pool of `processes` processes forked now (they see what this process holds now, and work on what is
    sent to them pickled); closed and waited for at the end, ended at once on an error. Only from a process
    without threads (a command, not the threaded web server)."""
    pool = multiprocessing.get_context("fork").Pool(processes)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


class PartCache:
    """Finished PDFs of documents by the hash of what they are made from (see REUSE above); None: no reuse."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = private_dir(folder) if folder is not None else None
        self.hits = 0

    @staticmethod
    def key(html: str) -> str:
        """The hash of the document's HTML and of the software that lays it out."""
        weasyprint = _weasyprint()
        pydyf = importlib.import_module("pydyf")
        pango = importlib.import_module(f"{WEASYPRINT}.text.ffi").pango.pango_version()
        made_by = f"weasyprint {weasyprint.__version__}; pydyf {pydyf.__version__}; pango {pango}\n"
        return hashlib.sha256((made_by + html).encode()).hexdigest()

    def get(self, key: str) -> tuple[bytes, int] | None:
        """The PDF and its pages kept under this key, or None."""
        if self.folder is None:
            return None
        for path in self.folder.glob(f"{key}.*.pdf"):
            with contextlib.suppress(OSError, ValueError):
                data, pages = path.read_bytes(), int(path.name.split(".")[1])
                os.utime(path)  # recently used: kept
                self.hits += 1
                return data, pages
        return None

    def put(self, key: str, data: bytes, pages: int) -> None:
        """Keep a PDF (readable by the hub's user only: slips hold the journal) and forget old ones."""
        if self.folder is None:
            return
        path = self.folder / f"{key}.{pages}.pdf"
        write_private(path, data)
        old = path.stat().st_mtime - CACHE_DAYS * 86_400  # ages by the file system's own clock, as it dates files
        for path in self.folder.glob("*.pdf"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < old:
                    path.unlink()


def numbered(render: Callable[[int | None], str]) -> tuple[Any, int]:
    """Lay out a document whose title page states its own page count; return it and the count."""
    document = layout(render(None))
    count = len(document.pages)
    for _ in range(PASSES):
        document = layout(render(count))
        if len(document.pages) == count:
            break
        count = len(document.pages)
    return document, count


def split_slips(document: Any, numbers: Sequence[int]) -> list[int]:
    """The slips whose first and last lines are on different pages."""
    page_of: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            page_of.setdefault(anchor, index)
    return [n for n in numbers if page_of.get(f"slip-{n}") != page_of.get(f"slip-{n}-end")]


def kept_whole(render: Callable[[dict[int, int]], str], levels: dict[int, int], top: int) -> Any:
    """Lay out slips, shrinking the type of any slip that spills onto a second page (levels change in place); the
    slips template is well-formed XML (`xhtml_document`)."""
    document = layout(render(levels), xhtml=True)
    for _ in range(top):
        split = [n for n in split_slips(document, list(levels)) if levels[n] < top]
        if not split:
            break
        for number in split:
            levels[number] += 1
        document = layout(render(levels), xhtml=True)
    return document
