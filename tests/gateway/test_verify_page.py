"""GET /verify/<receipt number>: the QR code on a downloaded receipt opens a page saying it is
ours, with its own facts; a wrong code and an unknown number get the same "not ours"."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from app.bootstrap import Container, receipt_check_keys
from app.gateway.app import create_app
from bot.model.keys import purpose_key
from bot.model.receipt_checks import check_code, code_matches
from integrations.log_redaction import redact
from tests.gateway.conftest import (
    BASE_URL,
    ContainerFactory,
    OpenPayment,
    razorpay_event,
    signed,
)

pytestmark = pytest.mark.asyncio

UNKNOWN = "RJB010101ABCDEF012345"


@pytest.fixture
async def receipt_number(client: httpx.AsyncClient, open_payment: OpenPayment) -> str:
    payment = open_payment.payment
    assert payment.link_id
    body = razorpay_event(
        "payment_link.paid", payment.link_id, payment.payment_id, payment.total_paise
    )
    raw, headers = signed(body, "evt_Verify0001")
    assert (
        await client.post("/webhooks/payments", content=raw, headers=headers)
    ).status_code == 200
    pushed = await client.get("/webchat/messages", params={"sender": open_payment.sender})
    url = pushed.json()["messages"][0]["attachment"]["url"]
    return str(urlsplit(url).path.removeprefix("/receipts/").removesuffix(".pdf"))


def code_of(container: Container, number: str) -> str:
    return container.receipt_checks.check_for(number).code


def visible_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[-1]).split())


async def test_the_right_code_says_genuine_with_the_receipts_own_facts(
    client: httpx.AsyncClient, container: Container, receipt_number: str
) -> None:
    code = code_of(container, receipt_number)

    response = await client.get(f"/verify/{receipt_number}", params={"code": code})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = visible_text(response.text)
    assert "Genuine receipt" in text and "असली रसीद" in text
    for fact in (receipt_number, "Jaipur Vidyut Vitran Nigam", "••••8912"):
        assert fact in text
    assert re.search(r"₹[\d,]+\.\d\d", text)
    assert "210145678912" not in response.text  # the consumer number, only its last 4


async def test_a_wrong_code_and_an_unknown_number_get_the_same_page(
    client: httpx.AsyncClient, container: Container, receipt_number: str
) -> None:
    right = code_of(container, receipt_number)
    wrong = ("0" if right[0] != "0" else "1") + right[1:]

    on_wrong = await client.get(f"/verify/{receipt_number}", params={"code": wrong})
    on_unknown = await client.get(f"/verify/{UNKNOWN}", params={"code": wrong})

    assert on_wrong.status_code == on_unknown.status_code == 404
    assert "We cannot confirm this receipt" in on_wrong.text
    # Word for word the same, but for the number typed, which is shown back.
    assert on_wrong.text.replace(receipt_number, "N") == on_unknown.text.replace(UNKNOWN, "N")
    assert "Jaipur" not in on_wrong.text and "8912" not in on_wrong.text


async def test_an_unknown_number_with_its_own_code_is_not_ours(
    client: httpx.AsyncClient, container: Container
) -> None:
    # A code our key makes for a number we never issued: still nothing to confirm.
    response = await client.get(f"/verify/{UNKNOWN}", params={"code": code_of(container, UNKNOWN)})
    assert response.status_code == 404
    assert "We cannot confirm this receipt" in response.text


async def test_a_code_made_with_another_key_is_not_ours(
    client: httpx.AsyncClient, receipt_number: str
) -> None:
    forged = check_code(b"gateway-test-app-secret", receipt_number)  # the raw secret

    response = await client.get(f"/verify/{receipt_number}", params={"code": forged})

    assert response.status_code == 404


async def test_the_receipt_number_alone_says_genuine_and_an_unknown_one_not_ours(
    client: httpx.AsyncClient, receipt_number: str
) -> None:
    # CONTRACTS.md: GET /verify/<receipt number> answers 200 for a receipt we issued.
    known = await client.get(f"/verify/{receipt_number}")
    unknown = await client.get(f"/verify/{UNKNOWN}")

    assert known.status_code == 200
    assert "Genuine" in visible_text(known.text) or "genuine" in visible_text(known.text)
    assert unknown.status_code == 404
    assert "Genuine" not in visible_text(unknown.text)


async def test_a_code_typed_by_hand_in_lower_case_with_a_dash_is_read(
    client: httpx.AsyncClient, container: Container, receipt_number: str
) -> None:
    code = code_of(container, receipt_number)

    response = await client.get(
        f"/verify/{receipt_number.lower()}", params={"code": f"{code[:5]}-{code[5:]}".lower()}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [("hi", "असली रसीद", "Genuine receipt"), ("en", "Genuine receipt", "असली रसीद")],
)
async def test_one_language_when_the_address_asks(
    client: httpx.AsyncClient,
    container: Container,
    receipt_number: str,
    lang: str,
    present: str,
    absent: str,
) -> None:
    code = code_of(container, receipt_number)

    response = await client.get(f"/verify/{receipt_number}", params={"code": code, "lang": lang})

    assert present in response.text and absent not in response.text
    assert f'<html lang="{lang}">' in response.text


async def test_the_page_needs_no_script_and_keeps_the_code_to_itself(
    client: httpx.AsyncClient, container: Container, receipt_number: str
) -> None:
    code = code_of(container, receipt_number)

    response = await client.get(f"/verify/{receipt_number}", params={"code": code})

    assert "<script" not in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert 'name="viewport"' in response.text
    # Access logs print paths with their queries: the code is removed like a signature.
    assert code not in redact(f'"GET /verify/{receipt_number}?code={code} HTTP/1.1" 200')


@pytest.mark.parametrize(
    "path",
    [
        "/verify/%3Cscript%3Ealert(1)?code=%3Ci%3Ex",
        "/verify/" + "A" * 500 + "?code=" + "B" * 500,
        "/verify/RJB%E0%A4%85?code=%E0%A4%85%E0%A4%85",
    ],
)
async def test_garbage_is_not_ours_and_never_echoed_raw(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert "<script" not in response.text and "<i>" not in response.text
    assert "A" * 100 not in response.text


async def test_the_qr_code_on_the_downloaded_receipt_opens_the_genuine_page(
    client: httpx.AsyncClient, open_payment: OpenPayment, receipt_number: str, tmp_path: Path
) -> None:
    """From the resident's PDF to the page a shopkeeper sees: the QR code read off the page."""
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm or zbarimg missing: run scripts/install-system-deps.sh")
    pushed = await client.get("/webchat/messages", params={"sender": open_payment.sender})
    pdf = await client.get(pushed.json()["messages"][0]["attachment"]["url"])
    assert pdf.status_code == 200
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            str(tmp_path / "r.pdf"),
            str(tmp_path / "r"),
        ],
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "r.png")], capture_output=True, text=True
    ).stdout.strip()

    assert scanned.startswith(f"{BASE_URL}/verify/{receipt_number}?code=")
    page = await client.get(scanned.removeprefix(BASE_URL))
    assert page.status_code == 200 and "Genuine receipt" in page.text


async def test_receipt_check_keys_rotate_without_voiding_printed_codes(
    make_container: ContainerFactory,
) -> None:
    """RECEIPT_CHECK_KEYS: the first key makes new codes, an older one still checks; unset,
    the key is derived from APP_SECRET_KEY (never the secret itself)."""
    number = "RJB261124A1B2C3D4E5F6"
    rotated = await make_container(receipt_check_keys=SecretStr("new-check-key, old-check-key"))
    derived = await make_container()

    assert rotated.receipt_checks.check_for(number).code == check_code(b"new-check-key", number)
    assert code_matches(
        receipt_check_keys(rotated.settings), number, check_code(b"old-check-key", number)
    )
    assert derived.receipt_checks.check_for(number).code == check_code(
        purpose_key(b"gateway-test-app-secret", "receipt-check"), number
    )


async def test_a_client_checking_too_often_is_asked_to_wait_and_nothing_is_looked_up(
    make_container: ContainerFactory, receipt_number: str
) -> None:
    # Its own container, with a limit of 3 a minute, on the same database.
    container = await make_container(verify_lookups_per_minute=3)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        answers = [await client.get(f"/verify/{UNKNOWN}") for _ in range(3)]
        lookups: list[str] = []
        real_verify = container.receipt_checks.verify

        async def counting_verify(number: str, code: str) -> object:
            lookups.append(number)
            return await real_verify(number, code)

        container.receipt_checks.verify = counting_verify  # type: ignore[method-assign]
        refused = await client.get(f"/verify/{receipt_number}")

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    text = visible_text(refused.text)
    assert "Too many checks from here" in text and "बहुत ज़्यादा जाँच" in text
    assert receipt_number not in refused.text and "Genuine" not in text
    assert lookups == []  # refused before any database read
