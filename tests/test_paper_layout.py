"""Every paper document, page by page, as pdftotext lays it out: no text outside the page's printable box, every
column heading found, and the slip's column heads clear of the QR block (issue 12: «Отметки, пропуск» under the
QR code, «2 четве…» cut at the page edge). A rendered page of each is kept under artifacts/paper/ to look at."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
from pathlib import Path

from app.base import settings
from tests.paper_support import PaperSchool, give_link, keep_png, needs_pdf, pdf_lines

MM = 72 / 25.4  # PDF points per millimetre
# paper.css: @page margin 10mm 10mm 12mm 12mm (top, right, bottom, left); page numbers sit in the bottom margin.
LEFT, RIGHT, TOP = 12 * MM, 10 * MM, 10 * MM
SLACK = 1.0  # points: glyph boxes may touch the margin line
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def words(path: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: width, height and each word's box (pdftotext -bbox keeps text drawn outside the page too)."""
    html = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [(float(w), float(h), [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(body)])
            for w, h, body in PAGE.findall(html)]


def outside(path: Path) -> list[str]:
    """Words that cross the printable box sideways or leave the page: cut at the edge on paper."""
    found = []
    for number, (width, height, boxes) in enumerate(words(path), start=1):
        for x_min, y_min, x_max, y_max, text in boxes:
            if x_min < LEFT - SLACK or x_max > width - RIGHT + SLACK or y_min < 0 or y_max > height:
                found.append(f"p. {number}: {text} ({x_min:.0f}–{x_max:.0f} of {width:.0f})")
    return found


def many_lessons(school: PaperSchool) -> None:
    """Fourteen more maths lessons of 7А: sixteen in all, a full grid table with the average and period mark."""
    days = [dt.date(2026, 11, 5) + dt.timedelta(days=i) for i in range(24)]
    days = [d for d in days if d.isoweekday() <= 6][:14]  # with week 47's two: 16, a full grid table
    school.post([school.lesson(f"l{i}", d, 4, topic=f"Тема {i}", homework=f"№ {i}") for i, d in enumerate(days)])
    school.post([school.mark(f"m{i}", f"l{i}", "st_ivanova", "5", "oral", d) for i, d in enumerate(days)])


@needs_pdf
def test_every_document_stays_inside_its_pages_and_shows_every_column_heading(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    many_lessons(school)
    documents = {
        "slips": ["slips", "--class", "7А", "--week", "2026-W47", "--all"],
        "school-slips": ["slips", "--school", "--week", "2026-W47", "--all"],
        "journal": ["print", "journal", "--class", "7А", "--period", "2"],
        "summary": ["print", "summary", "--class", "7А"],
    }
    for name, args in documents.items():
        target = tmp_path / f"{name}.pdf"
        result = runner.invoke(args=[*args, "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert outside(target) == [], name
        keep_png(target, f"layout-{name}")
    journal = tmp_path / "journal.pdf"
    grid = next(number for number, (_w, _h, boxes) in enumerate(words(journal), start=1)
                if any(t == "Ср." for *_box, t in boxes))
    heading = " ".join(pdf_lines(journal, grid))
    assert "Ученик" in heading and "05.11" in heading and "Ср." in heading and "четверть" in heading
    keep_png(journal, "layout-journal-grid", grid)


@needs_pdf
def test_the_slips_column_heads_start_below_the_qr_block(app, client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    give_link(school.smirnovy, school.father)
    app.extensions["tetrad.settings"] = dataclasses.replace(settings(), paper_qr_on_slips=True)
    target = tmp_path / "slips.pdf"
    result = runner.invoke(args=["slips", "--class", "7А", "--week", "2026-W47", "--all", "--out", str(target)])
    assert result.exit_code == 0, result.output
    pages = words(target)
    number = next(i for i, (_w, _h, page) in enumerate(pages) if any(b[4] == "интернете:" for b in page))
    keep_png(target, "layout-slip-qr", number + 1)
    boxes = [b for b in pages[number][2] if b[1] >= min(q[1] for q in pages[number][2] if q[4] == "интернете:") - 40]
    # Смирнов's slip, with the QR code of his father's link (the slips before it on the page left out)
    qr_text = [b for b in boxes if b[4] == "интернете:"]
    heads = [b for b in boxes if b[4] in ("Отметки,", "пропуск", "Пропуск")]  # the column head, its words
    assert qr_text and heads, "the slip has its QR block and its column heads"
    qr_left, qr_top = min(q[0] for q in qr_text), min(q[1] for q in qr_text)
    qr_words = [b for b in boxes if b[0] >= qr_left - 1 and qr_top - 1 <= b[1] <= qr_top + 40 and b not in heads]
    qr_bottom = max(b[3] for b in qr_words)  # the QR block's last line (its text under the image)
    assert heads[0][1] >= qr_bottom, "«Отметки, пропуск» is printed under the QR block"
    first_day = next(b for b in boxes if b[4] == "пн,")
    assert first_day[1] > qr_bottom
    assert TOP <= heads[0][1]
