"""The receipt check page as HTML: one small document, no script, readable on a phone.

Both languages unless the address asks for one (`?lang=en|hi`): the person checking a
receipt is not the resident whose language we know. Every value is escaped; the receipt
number comes from the address bar and is shown back only when it looks like one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote, urlencode

from bot.messages import render
from bot.model.calendar import IST, format_date
from bot.model.money import format_rupees
from bot.model.payments import Receipt
from bot.model.residents import Language

_SHOWABLE_NUMBER = re.compile(r"[A-Za-z0-9]{1,32}")

_STYLE = """
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Noto Sans","Noto Sans Devanagari",
sans-serif;color:#212529;background:#f6f3ef}
header{background:#b04c15;color:#fff;padding:12px 16px;font-weight:600}
main{max-width:32rem;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:10px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 8px}
.ok h1{color:#1b7a3d}.no h1{color:#b3261e}
.ok{border-top:6px solid #1b7a3d}.no{border-top:6px solid #b3261e}.ask{border-top:6px solid #b04c15}
p{margin:8px 0}
dl{margin:12px 0 0}dt{color:#6c757d;font-size:.9rem;margin-top:10px}
dd{margin:0;font-weight:600;font-size:1.1rem;overflow-wrap:anywhere}
form{margin-top:12px}
label{display:block;color:#6c757d;margin-bottom:4px}
input{font:inherit;font-size:1.2rem;letter-spacing:.08em;text-transform:uppercase;width:100%;
box-sizing:border-box;padding:10px;border:1px solid #adb5bd;border-radius:8px}
button{font:inherit;margin-top:10px;width:100%;padding:12px;border:0;border-radius:8px;
background:#b04c15;color:#fff;font-weight:600}
.mark{font-size:2rem;line-height:1}.ok .mark{color:#1b7a3d}.no .mark{color:#b3261e}
.safety{font-size:.9rem;color:#6c757d;margin-top:16px}
nav{margin-top:16px;font-size:.9rem}nav a{color:#b04c15;margin-right:12px}
"""


def _words(key: str, languages: Sequence[Language]) -> list[tuple[Language, str]]:
    return [(language, render(key, language)) for language in languages]


def _lines(key: str, languages: Sequence[Language], tag: str = "p") -> str:
    return "".join(
        f'<{tag} lang="{lang.value}">{html.escape(text)}</{tag}>'
        for lang, text in _words(key, languages)
    )


def _label(key: str, languages: Sequence[Language]) -> str:
    return " · ".join(
        f'<span lang="{lang.value}">{html.escape(text)}</span>'
        for lang, text in _words(key, languages)
    )


def page(
    receipt_number: str,
    receipt: Receipt | None,
    code: str,
    languages: Sequence[Language],
    busy: bool = False,
) -> str:
    """The whole page: genuine (with the receipt's own facts), not ours, the code asked, or
    (`busy`) too many checks from this client."""
    first = languages[0]
    if busy:
        kind = "no"
        body = _lines("verify_busy", languages, "h1") + _lines("verify_busy_text", languages)
    elif receipt is not None:
        kind = "ok"
        body = _genuine(receipt, languages)
    elif code:
        kind = "no"
        body = '<div class="mark" aria-hidden="true">✗</div>'
        body += _lines("verify_not_ours", languages, "h1") + _lines(
            "verify_not_ours_text", languages
        )
        body += _code_form(receipt_number, languages)
    else:
        kind = "ask"
        body = _lines("verify_title", languages, "h1") + _lines("verify_ask_code", languages)
        body += _code_form(receipt_number, languages)
    title = " · ".join(text for _, text in _words("verify_title", languages))
    return (
        f'<!doctype html><html lang="{first.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header>{_label('verify_product', languages)}</header><main>"
        f'<div class="card {kind}">{body}</div>'
        f'<div class="safety">{_lines("verify_safety", languages)}</div>'
        f"{_language_links(code, languages)}</main></body></html>"
    )


def _genuine(receipt: Receipt, languages: Sequence[Language]) -> str:
    paid_on = format_date(receipt.paid_at.astimezone(IST).date(), languages[0])
    rows = [
        ("verify_receipt_number", receipt.receipt_number),
        ("verify_biller", receipt.biller_name),
        ("verify_consumer", receipt.consumer_number_masked),
        ("verify_amount", format_rupees(receipt.total_paise)),
        ("verify_paid_on", paid_on),
    ]
    facts = "".join(
        f"<dt>{_label(key, languages)}</dt><dd>{html.escape(value)}</dd>" for key, value in rows
    )
    return (
        '<div class="mark" aria-hidden="true">✓</div>'
        + _lines("verify_genuine", languages, "h1")
        + _lines("verify_genuine_text", languages)
        + f"<dl>{facts}</dl>"
    )


def _code_form(receipt_number: str, languages: Sequence[Language]) -> str:
    action = f"/verify/{quote(receipt_number, safe='')}"
    keep_language = (
        f'<input type="hidden" name="lang" value="{languages[0].value}">'
        if len(languages) == 1
        else ""
    )
    shown = (
        f"<p><b>{html.escape(receipt_number)}</b></p>"
        if _SHOWABLE_NUMBER.fullmatch(receipt_number)
        else ""
    )
    return (
        f'{shown}<form method="get" action="{html.escape(action)}">'
        f'<label for="code">{_label("verify_code_label", languages)}</label>'
        '<input id="code" name="code" autocomplete="off" autocapitalize="characters" '
        'spellcheck="false" maxlength="16" placeholder="XXXXX-XXXXX" required>'
        f"{keep_language}"
        f'<button type="submit">{_label("verify_button", languages)}</button></form>'
    )


def _language_links(code: str, languages: Sequence[Language]) -> str:
    """The same page in each one language (with the code given, so nothing is typed again)."""
    names = {Language.EN: "English", Language.HI: "हिंदी"}
    links = []
    for language in Language:
        if [language] == list(languages):
            continue
        query = {"code": code, "lang": language.value} if code else {"lang": language.value}
        href = html.escape(f"?{urlencode(query)}")
        links.append(f'<a href="{href}" lang="{language.value}">{names[language]}</a>')
    return f"<nav>{''.join(links)}</nav>"
