"""What our PDF documents (receipts, bill copies) share: the page, the fonts, the rows, and a
QR code drawn as vector squares.

Hindi needs a shaping engine (HarfBuzz, through uharfbuzz): without it conjuncts such as
"स्त" and vowel signs such as "ि" come out as loose, misplaced glyphs. Noto Sans Devanagari
has no Latin letters, so it is a fallback font behind Noto Sans, which also carries ₹ and
the bullets of masked numbers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.model.calendar import IST
from bot.model.residents import Language

# Debian's fonts-noto-core, installed by scripts/install-system-deps.sh.
DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_FILES = {
    ("latin", ""): "NotoSans-Regular.ttf",
    ("latin", "B"): "NotoSans-Bold.ttf",
    ("deva", ""): "NotoSansDevanagari-Regular.ttf",
    ("deva", "B"): "NotoSansDevanagari-Bold.ttf",
}
INSTALL_HINT = "run scripts/install-system-deps.sh (Debian package fonts-noto-core)"

MONTHS: dict[Language, tuple[str, ...]] = {
    Language.EN: tuple("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()),
    Language.HI: tuple("जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर".split()),
}

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (176, 76, 21)  # a Rajasthani terracotta, same as the chat page header
PRODUCT = {Language.EN: "Rajasthan Bill Assistant", Language.HI: "राजस्थान बिल सहायक"}


class ReceiptFontsMissingError(RuntimeError):
    """The Noto fonts are not installed: documents cannot be drawn without them."""


def format_ist(moment: datetime, language: Language) -> str:
    """Like "24 Nov 2026, 19:05 IST": residents read times in IST, whatever the storage zone."""
    local = moment.astimezone(IST)
    month = MONTHS[language][local.month - 1]
    return f"{local.day} {month} {local.year}, {local:%H:%M} IST"


def check_fonts(font_dir: Path) -> None:
    """Raise ReceiptFontsMissingError naming every absent font file and how to install it."""
    missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise ReceiptFontsMissingError(
            f"receipt fonts missing in {font_dir}: {', '.join(missing)}; {INSTALL_HINT}"
        )


def new_document(font_dir: Path, title: str, language: Language, file_title: str = "") -> FPDF:
    """An A5 page with our fonts and the product name and `title` at its top (`file_title`,
    default `title`, is the document's title in its properties)."""
    check_fonts(font_dir)
    pdf = FPDF(format=(148, 210))  # A5; the name warns about a 2.8.5 fix
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_title(file_title or title)
    pdf.set_creator(PRODUCT[Language.EN])
    for (family, style), filename in FONT_FILES.items():
        pdf.add_font(family, style, str(font_dir / filename))
    pdf.set_fallback_fonts(["deva"], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()

    use_font(pdf, "B", 10)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 6, PRODUCT[language], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    use_font(pdf, "B", 18)
    pdf.set_text_color(*INK)
    pdf.cell(0, 11, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    rule(pdf)
    return pdf


def row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
    use_font(pdf, "B" if bold else "", 12 if bold else 10)
    pdf.set_text_color(*(INK if bold else MUTED))
    pdf.cell(48, 8, label)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 8, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def rule(pdf: FPDF) -> None:
    pdf.ln(1.5)
    pdf.set_draw_color(222, 226, 230)
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(2.5)


def note(pdf: FPDF, text: str, size: float = 8.5) -> None:
    """Small grey text across the page."""
    use_font(pdf, "", size)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def qr_code(pdf: FPDF, content: str, x: float, y: float, size: float) -> None:
    """`content` as a QR code `size` mm wide at (x, y), drawn as filled rectangles (one per
    run of dark modules in a row): sharp at any zoom and on any printer, a few kilobytes.
    The page around it must stay white for the quiet zone scanners need."""
    code = segno.make(content, error="m", micro=False)
    matrix = [list(line) for line in code.matrix_iter(border=0)]
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, line in enumerate(matrix):
        c = 0
        while c < len(line):
            if not line[c]:
                c += 1
                continue
            start = c
            while c < len(line) and line[c]:
                c += 1
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")


def use_font(pdf: FPDF, style: str, size: float) -> None:
    """Select Noto Sans and declare it on the page before any text is drawn.

    fpdf2 2.8.9 declares the base font lazily, and when a line starts with a fallback-font
    glyph (a Hindi label) it declares it only inside that line's q/Q block; the next line
    that starts with Latin text (a value) then has no font at all and viewers drop it
    ("No font in show"). `text()` with an empty string declares the font page-wide.
    """
    pdf.set_font("latin", style, size)
    pdf.text(pdf.x, pdf.y, "")
