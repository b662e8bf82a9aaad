"""Draw the sample bills the bot shows when a resident asks where their consumer number is
printed: one per utility, the number's place marked in red, labels in English and Hindi.

A generic layout, not any company's real bill (each company prints its own). Run once after
changing the drawing; the PNGs are committed (app/gateway/static/sample-bills/):

    .venv/bin/python -m scripts.draw_sample_bills
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "app" / "gateway" / "static" / "sample-bills"
FONTS = Path("/usr/share/fonts/truetype/noto")
WIDTH, HEIGHT = 720, 560
INK, MUTED, MARK, PAPER = "#1f2933", "#7b8794", "#d64545", "#fffdf7"


@dataclass(frozen=True)
class Sample:
    utility: str
    company: str
    number_label: str
    number: str


SAMPLES = (
    Sample(
        "electricity",
        "Electricity Distribution Co. / विद्युत वितरण निगम",
        "K Number / के नंबर",
        "2101 4567 8912",
    ),
    Sample("water", "PHED Water Bill / जलदाय विभाग", "CID / सीआईडी", "1200 3456 7890"),
    Sample(
        "gas", "City Gas Distribution / गैस बिल", "Customer ID, BP No. / कस्टमर आईडी", "1000 2345 67"
    ),
)


def _font(size: int, bold: bool = False, devanagari: bool = False) -> ImageFont.FreeTypeFont:
    family = "NotoSansDevanagari" if devanagari else "NotoSans"
    return ImageFont.truetype(str(FONTS / f"{family}-{'Bold' if bold else 'Regular'}.ttf"), size)


def _runs(text: str) -> list[tuple[str, bool]]:
    """`text` cut into runs of Devanagari and of everything else: Debian's Noto Sans
    Devanagari has no Latin letters, Noto Sans no Devanagari (libraqm shapes each run)."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        deva = "\u0900" <= char <= "\u097f" or (char == " " and bool(runs) and runs[-1][1])
        if runs and runs[-1][1] == deva:
            runs[-1] = (runs[-1][0] + char, deva)
        else:
            runs.append((char, deva))
    return runs


def _write(
    pen: ImageDraw.ImageDraw, at: tuple[int, int], text: str, size: int, bold: bool, fill: str
) -> None:
    x, y = at
    for run, deva in _runs(text):
        font = _font(size, bold, deva)
        pen.text((x, y), run, font=font, fill=fill)
        x += int(pen.textlength(run, font=font))


def draw(sample: Sample) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, WIDTH - 1, HEIGHT - 1), outline=MUTED, width=2)
    _write(pen, (30, 22), "SAMPLE / नमूना", 18, True, MUTED)
    _write(pen, (30, 52), sample.company, 26, True, INK)
    pen.line((30, 100, WIDTH - 30, 100), fill=MUTED, width=1)
    rows = [
        ("Name / नाम", "Ramesh Kumar"),
        ("Address / पता", "12, Station Road"),
        (sample.number_label, sample.number),
        ("Bill No. / बिल संख्या", "B-2026-11-0451"),
        ("Meter No. / मीटर नंबर", "M-889271"),
        ("Amount / राशि", "Rs. 1,234.00"),
        ("Due date / अंतिम तिथि", "15-12-2026"),
    ]
    y = 120
    for label, value in rows:
        marked = label == sample.number_label
        if marked:
            pen.rectangle((20, y - 8, WIDTH - 20, y + 44), outline=MARK, width=5)
        _write(pen, (40, y), label, 22, marked, MARK if marked else MUTED)
        _write(pen, (400, y), value, 24, marked, INK)
        y += 58
    _write(
        pen,
        (30, HEIGHT - 46),
        "Type the number in the red box / लाल घेरे वाला नंबर लिखें",
        20,
        True,
        MARK,
    )
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        path = OUT / f"{sample.utility}.png"
        draw(sample).save(path, optimize=True)
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
