"""Receipt downloads through signed, expiring links (no session: WhatsApp and Telegram
fetch the PDF by URL)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.gateway.deps import ContainerDep
from bot.errors import ReceiptNotFound

router = APIRouter()


@router.get("/receipts/{receipt_number}.pdf")
async def receipt_pdf(
    receipt_number: str,
    container: ContainerDep,
    lang: str = "",
    expires: str = "",
    sig: str = "",
) -> Response:
    language = container.receipt_links.language_of((receipt_number,), lang, expires, sig)
    if language is None:
        return JSONResponse({"detail": "invalid or expired link"}, status_code=403)
    try:
        # With its check (QR code and code) printed on it.
        receipt = await container.receipt_checks.printable(receipt_number)
    except ReceiptNotFound:
        return JSONResponse({"detail": "receipt not found"}, status_code=404)
    # Drawing a PDF takes ~0.1 s of CPU: off the event loop, or every chat waits for it.
    pdf = await run_in_threadpool(container.receipt_renderer.render, receipt, language)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{receipt.receipt_number}.pdf"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
