"""GET /verify/<receipt number>?code=<code>: is this receipt ours? (CONTRACTS.md, "Receipts
anyone can check"; bot/services/receipt_checks.py decides, bot/model/receipt_checks.py makes
the code.)

200 with the receipt's own facts for a receipt we issued, by its number alone or with its
own code (the QR code carries it); 404 otherwise, with the same page for a wrong code and
for a number we never issued.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.gateway.deps import ContainerDep
from app.gateway.verify_page import page
from bot.model.residents import Language

router = APIRouter()

# A receipt number is 21 characters and a code 10 (11 with its dash): longer input is not
# one, and is neither hashed nor shown back.
MAX_NUMBER_CHARS = 40
MAX_CODE_CHARS = 32
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    # The code is in the address: it must not leave in a Referer header.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}


@router.get("/verify/{receipt_number}", response_class=HTMLResponse)
async def verify_receipt(
    request: Request,
    receipt_number: str,
    container: ContainerDep,
    code: str = "",
    lang: str = "",
) -> HTMLResponse:
    languages = [Language(lang)] if lang in ("en", "hi") else list(Language)
    # Per client address (the proxy's, behind one: then the proxy should limit too). Counted
    # before any lookup, so a refused check costs no database read.
    client = request.client.host if request.client else "-"
    checks = await container.rate_counter.hit(f"verify:{client}", timedelta(minutes=1))
    if checks > container.settings.verify_lookups_per_minute:
        body = page("", None, "", languages, busy=True)
        headers = {**_HEADERS, "Retry-After": "60"}
        return HTMLResponse(body, status_code=429, headers=headers)
    number = receipt_number if len(receipt_number) <= MAX_NUMBER_CHARS else ""
    typed = code.strip() if len(code) <= MAX_CODE_CHARS else "-"
    receipt = await container.receipt_checks.verify(number, typed) if number else None
    body = page(number, receipt, typed, languages)
    return HTMLResponse(body, status_code=200 if receipt else 404, headers=_HEADERS)
