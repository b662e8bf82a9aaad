"""The web chat page on a phone-sized screen in a real browser (Debian's headless Chromium,
driven by Playwright), against the gateway on 127.0.0.1 with a Rasa double: the bot's
buttons are big enough for a thumb (44 px, WCAG 2.5.5), and pressing one sends its payload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from app.gateway.app import create_app
from tests.gateway.conftest import ContainerFactory
from tests.gateway.rasa_double import RasaDouble, free_port
from tests.gateway.test_agent_console_browser import CHROMIUM, pytestmark  # noqa: F401

MIN_TARGET_PX = 44
YES_NO = [
    {"title": "Yes, pay ₹3,107.50", "payload": "/affirm"},
    {"title": "Not now", "payload": "/deny"},
]


@pytest.fixture
async def page_url(make_container: ContainerFactory) -> AsyncIterator[tuple[str, RasaDouble]]:
    rasa = RasaDouble().start()
    rasa.replies = [
        {"recipient_id": "x", "text": "Shall I make the payment link?", "buttons": YES_NO}
    ]
    port = free_port()
    container = await make_container(rasa_port=rasa.port, gateway_port=port)
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", rasa
    finally:
        server.should_exit = True
        await serving
        rasa.stop()


async def test_buttons_are_thumb_sized_on_a_phone_and_send_their_payload(
    page_url: tuple[str, RasaDouble],
) -> None:
    from playwright.async_api import async_playwright

    url, rasa = page_url
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 360, "height": 740})
            page = await context.new_page()
            chat_requests: list = []
            page.on(
                "request",
                lambda r: chat_requests.append(r) if "/webchat/" in r.url else None,
            )
            await page.goto(url)
            await page.fill("textarea", "pay my bill")
            await page.keyboard.press("Enter")
            buttons = page.locator(".buttons button")
            await buttons.first.wait_for()
            assert await buttons.count() == 2
            for index in range(2):
                box = await buttons.nth(index).bounding_box()
                assert box is not None
                assert box["height"] >= MIN_TARGET_PX and box["width"] >= MIN_TARGET_PX, box
            send = await page.locator(".composer button").bounding_box()
            assert send is not None and send["height"] >= MIN_TARGET_PX

            await buttons.first.click()
            for _ in range(100):
                sent = [
                    r["json"]["message"] for r in rasa.requests if "message" in (r["json"] or {})
                ]
                if len(sent) == 2:
                    break
                await asyncio.sleep(0.05)
            assert sent == ["pay my bill", "/affirm"]
            # The session is the server's, in a header: never in a URL (finding 10).
            sessions = {r.headers.get("x-webchat-session") for r in chat_requests[1:]}
            [session] = sessions
            assert session and len(session) == 43
            assert chat_requests[0].url.endswith("/webchat/sessions")
            assert all(session not in r.url and "sender" not in r.url for r in chat_requests)
            assert any(r.method == "GET" for r in chat_requests)  # the polls too
        finally:
            await browser.close()


async def test_an_old_id_kept_by_the_page_is_refused_politely_and_a_new_chat_starts(
    page_url: tuple[str, RasaDouble],
) -> None:
    from playwright.async_api import async_playwright

    url, rasa = page_url
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 360, "height": 740})
            # What the page kept from before: an id it made itself, and a session the
            # server never issued (or one that expired).
            await context.add_init_script(
                "localStorage.setItem('rjbill.sender', '0123456789abcdef0123456789abcdef');"
                "localStorage.setItem('rjbill.session', 'old-session-id');"
            )
            page = await context.new_page()
            await page.goto(url)
            notice = page.locator(".msg.bot", has_text="A new chat has started")
            await notice.first.wait_for()
            await page.fill("textarea", "hello again")
            await page.keyboard.press("Enter")
            await page.locator(".msg.bot", has_text="Shall I make").first.wait_for()

            assert await notice.count() == 1
            assert "नई चैट शुरू हो गई है" in await notice.first.inner_text()
            kept = await page.evaluate(
                "[localStorage.getItem('rjbill.sender'), localStorage.getItem('rjbill.session')]"
            )
            assert kept[0] is None and len(kept[1]) == 43
            assert [
                r["json"]["message"] for r in rasa.requests if "message" in (r["json"] or {})
            ] == ["hello again"]
        finally:
            await browser.close()
