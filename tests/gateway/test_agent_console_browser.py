"""The agent console in a real browser (Debian's headless Chromium driven by Playwright),
against the gateway served by uvicorn on 127.0.0.1 with a Rasa double on HTTP.

An agent logs in, sees the waiting conversation with its history, takes it and replies;
the reply reaches the resident through the web chat's pushed messages; the bot (Rasa) gets
nothing while the agent holds the chat, and answers again after release.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.bootstrap import Container
from app.gateway.app import create_app
from bot.model.residents import Channel
from tests.gateway.conftest import ContainerFactory, web_sender
from tests.gateway.rasa_double import RasaDouble, free_port

CHROMIUM = Path("/usr/bin/chromium")
SENDER = web_sender("resident-sunita-web")  # a contract caller's own id (>= 32 characters)
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() or shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (make system-deps installs it)",
    ),
]


@dataclass
class Served:
    url: str
    container: Container
    rasa: RasaDouble
    http: httpx.AsyncClient

    def turns_sent_to_rasa(self) -> list[str]:
        return [
            r["json"]["message"]
            for r in self.rasa.requests
            if r["path"] == "/webhooks/gateway/webhook"
        ]

    async def say(self, text: str) -> list[str]:
        response = await self.http.post(
            f"{self.url}/webchat/messages", json={"sender": SENDER, "text": text}
        )
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["messages"]]

    async def pushed(self) -> list[str]:
        response = await self.http.get(f"{self.url}/webchat/messages", params={"sender": SENDER})
        return [m["text"] for m in response.json()["messages"]]


@pytest.fixture
async def served(make_container: ContainerFactory) -> AsyncIterator[Served]:
    rasa = RasaDouble().start()
    rasa.replies = [{"recipient_id": "x", "text": "Hello from the bot"}]
    port = free_port()
    container = await make_container(rasa_port=rasa.port, gateway_port=port)
    app = create_app(container)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            yield Served(f"http://127.0.0.1:{port}", container, rasa, http)
    finally:
        server.should_exit = True
        await serving
        rasa.stop()


async def test_agent_takes_replies_and_releases_while_the_bot_stays_silent(
    served: Served,
) -> None:
    from playwright.async_api import async_playwright

    await served.container.agents.add("asha", PASSWORD)
    # The first reply is preceded by the privacy notice (first contact).
    first = await served.say("hello")
    assert first[-1] == "Hello from the bot" and first[0].startswith("Privacy:")
    conversation = await served.container.conversations.open(Channel.WEBCHAT, SENDER)
    # What action_talk_to_human does when Rasa recognises "talk to a person".
    await served.container.handoff.request(conversation.conversation_id, "talk to a person")
    # Waiting for an agent, the bot only says the message was kept (and how to get it back).
    [kept] = await served.say("my bill shows unpaid <b>but</b> money was taken")
    assert kept.startswith("Your message is kept for the help desk")
    assert served.turns_sent_to_rasa() == ["hello"]
    served.rasa.tracker_events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hello"},
        {"event": "bot", "text": "Hello from the bot"},
        {"event": "user", "text": "talk to a person"},
    ]

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{served.url}/agent")
            assert page.url.endswith("/agent/login")  # no session: the login form

            await page.fill("#username", "asha")
            await page.fill("#password", "not the password")
            await page.get_by_role("button", name="Log in").click()
            assert "Wrong username or password" in await page.inner_text("#error")

            await page.fill("#username", "asha")
            await page.fill("#password", PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url(f"{served.url}/agent")
            section = page.locator("section.conversation")
            assert await section.count() == 1
            shown = await section.inner_text()
            assert f"••••{SENDER[-4:]}" in shown and SENDER not in shown  # masked address
            assert "talk to a person" in shown
            # What came before the request, read from the Rasa tracker.
            before = await section.locator("ul.before").text_content()
            assert before is not None and "Hello from the bot" in before and "hello" in before
            # The resident's markup is shown as text, never rendered.
            assert "my bill shows unpaid <b>but</b> money was taken" in shown
            assert await page.locator("section.conversation b").count() == 0

            cookies = {c["name"]: c for c in await page.context.cookies()}
            session = cookies["agent_session"]
            assert session["httpOnly"] and session["sameSite"] == "Strict"

            await page.get_by_role("button", name="Take").click()
            await page.wait_for_selector("textarea[name=text]")
            await page.fill("textarea[name=text]", "I am checking your payment now.")
            await page.get_by_role("button", name="Send reply").click()
            await page.wait_for_selector("li.agent")

            pushed = await served.pushed()
            assert "Asha (help desk): I am checking your payment now." in pushed
            assert await served.say("thank you, waiting") == []
            await page.reload()
            assert "thank you, waiting" in await page.locator("ul.transcript").inner_text()
            assert served.turns_sent_to_rasa() == ["hello"]  # silent throughout the handoff

            await page.get_by_role("button", name="Release to bot").click()
            await page.wait_for_selector("#empty-queue")
        finally:
            await browser.close()

    assert (await served.pushed())[-1].startswith("The help desk has closed this chat.")
    assert await served.say("what is my bill") == ["Hello from the bot"]
    assert served.turns_sent_to_rasa() == ["hello", "what is my bill"]
