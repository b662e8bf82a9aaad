"""Bill copy downloads through signed, expiring links (bot/services/bill_copies.py): the
bill is fetched when the link is opened. Whoever opens it is a person (SMS shows the link)
or a provider fetching media (WhatsApp, Telegram): failures answer in plain words."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from app.gateway.deps import ContainerDep
from bot.errors import BillerUnavailable, ConsumerNotFound
from bot.messages import render
from bot.model.residents import Language

router = APIRouter()


@router.get("/bills/{resident_id}/{account_id}.pdf")
async def bill_copy_pdf(
    resident_id: str,
    account_id: str,
    container: ContainerDep,
    lang: str = "",
    expires: str = "",
    sig: str = "",
) -> Response:
    language = container.bill_copy_links.language_of((resident_id, account_id), lang, expires, sig)
    if language is None:
        return _words("bill_copy_link_invalid", list(Language), status_code=403)
    try:
        copy = await container.bill_copies.current(resident_id, account_id)
    except BillerUnavailable:
        headers = {"Retry-After": "120"}
        return _words("bill_copy_biller_down", [language], status_code=503, headers=headers)
    except ConsumerNotFound:
        copy = None
    if copy is None:
        return _words("bill_copy_gone", [language], status_code=404)
    # Drawing a PDF takes ~0.1 s of CPU: off the event loop, or every chat waits for it.
    pdf = await run_in_threadpool(container.bill_copy_renderer.render, copy, language)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{copy.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _words(
    key: str,
    languages: list[Language],
    status_code: int,
    headers: dict[str, str] | None = None,
) -> PlainTextResponse:
    text = "\n\n".join(render(key, language) for language in languages)
    return PlainTextResponse(
        text, status_code=status_code, headers={"Cache-Control": "no-store", **(headers or {})}
    )
