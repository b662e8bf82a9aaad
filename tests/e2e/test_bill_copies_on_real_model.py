"""Issue 16 on the real trained model, through the public contract only: "bill ki copy bhejo"
on the web chat (English and Hindi) and on WhatsApp, a company that times out, "is this
message real?", and a paid receipt whose QR code opens GET /verify saying it is genuine."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Chat, Stack, payloads, text_of
from tests.e2e.test_walking_skeleton import download, pay_in_sandbox
from tests.e2e.test_whatsapp_on_real_model import WhatsAppResident, bodies

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ANITA, ANITA_MOBILE, ANITA_TPADL = "anita.rathore", "+917014100006", "4100567890"
SUNITA, SUNITA_MOBILE = "sunita.devi", "+919414100002"
PRIYA, PRIYA_MOBILE = "priya.meena", "+918003100004"


def linked_chat(stack: Stack, sso_id: str, mobile: str, name: str) -> Chat:
    chat = Chat(stack, f"e2e-{name}-{uuid.uuid4().hex[:8]}")
    chat.say("/link_account")
    chat.say(sso_id)
    chat.say(chat.latest_otp(mobile))
    return chat


def attachments(messages: list[dict]) -> list[dict]:
    return [m["attachment"] for m in messages if m.get("attachment")]


def pdf_words(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text without spaces (pdftotext adds one after a Hindi i-matra)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing (poppler-utils): run scripts/install-system-deps.sh")
    (tmp_path / "doc.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "doc.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "".join(text.split())


def qr_of(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm or zbarimg missing: run scripts/install-system-deps.sh")
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / "receipt.pdf"),
         str(tmp_path / "receipt")],
        check=True,
    )  # fmt: skip
    return subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "receipt.png")], capture_output=True, text=True
    ).stdout.strip()


def test_english_copy_then_paying_it_and_checking_the_receipt(stack: Stack, tmp_path: Path) -> None:
    chat = linked_chat(stack, ANITA, ANITA_MOBILE, "copy-en")

    # The number asked like for any bill; then the copy, and a way to pay it.
    assert "TPADL" in text_of(chat.say("send me a copy of my TPADL bill"))
    copy = chat.say(ANITA_TPADL)
    said = text_of(copy)
    assert "copy of your TPADL bill" in said and "••••7890" in said and "₹1,120.00" in said
    [pdf] = attachments(copy)
    assert pdf["filename"] == "bill-TPADL-7890.pdf" and pdf["mime"] == "application/pdf"
    assert ANITA_TPADL not in pdf["url"]
    words = pdf_words(download(chat, pdf["url"]).content, tmp_path)
    for value in ("Billcopy", "TPAjmerDistribution", "••••7890", "₹1,120.00", "Itisnotareceipt"):
        assert value in words, value
    pay = next(p for p in payloads(copy) if p.startswith("/pay_bill"))

    # The copy's button pays that very bill.
    question = chat.say(pay)
    assert "₹1,120.00" in text_of(question) and "/affirm" in payloads(question)
    link = text_of(chat.say("yes"))
    assert pay_in_sandbox(chat, link)["status"] == "paid"
    [receipt] = [m for m in chat.pushed() if m.get("attachment")]
    receipt_pdf = download(chat, receipt["attachment"]["url"]).content

    # Whoever holds the receipt scans its QR code: the page says it is ours.
    scanned = qr_of(receipt_pdf, tmp_path)
    assert scanned.startswith(f"{stack.base_url}/verify/RJB"), scanned
    page = httpx.get(scanned, timeout=30)
    assert page.status_code == 200
    assert "Genuine receipt" in page.text and "••••7890" in page.text and "₹1,120.00" in page.text
    forged = re.sub(r"code=(\w)", lambda m: "code=" + ("1" if m.group(1) != "1" else "2"), scanned)
    assert httpx.get(forged, timeout=30).status_code == 404
    unknown = httpx.get(f"{stack.base_url}/verify/RJB010101ABCDEF012345", timeout=30)
    assert unknown.status_code == 404

    # A copy asked right after: that bill again, now with nothing due.
    again = chat.say("bill ki copy bhejo")
    assert "Nothing is due" in text_of(again) and attachments(again)


def test_hindi_copy_in_devanagari(stack: Stack, tmp_path: Path) -> None:
    chat = linked_chat(stack, SUNITA, SUNITA_MOBILE, "copy-hi")

    # One water company (PHED): the number is asked, unless this account is saved already.
    copy = chat.say("पानी के बिल की कॉपी भेजो")
    if not attachments(copy):
        copy = chat.say("120034567890")
    said = text_of(copy)
    assert "कॉपी" in said and "••••7890" in said and "₹286.00" in said
    [pdf] = attachments(copy)
    words = pdf_words(download(chat, pdf["url"]).content, tmp_path)
    for value in ("बिलकीप्रति", "कुलबकाया", "₹286.00", "••••7890"):
        assert value in words, value


def test_a_company_that_times_out_gets_a_polite_answer_and_no_copy(stack: Stack) -> None:
    chat = linked_chat(stack, PRIYA, PRIYA_MOBILE, "copy-timeout")

    chat.say("bill ka pdf bhejo")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "JVVNL0000RAJ01"}')
    answer = chat.say("210199999999")

    # Romanised Hindi: the conversation is in Hindi now.
    assert "कुछ मिनट बाद फिर कोशिश करें" in text_of(answer)
    assert attachments(answer) == []


def test_is_this_message_real_on_the_web_chat(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-fraud-{uuid.uuid4().hex[:8]}")

    answer = text_of(chat.say("I got an SMS that my electricity will be cut tonight, is it real?"))

    assert "never ask for your card number" in answer and "1930" in answer
    assert "QR code" in answer


def test_whatsapp_copy_comes_as_a_pdf_media_message(stack: Stack) -> None:
    resident = WhatsAppResident(stack, PRIYA_MOBILE)
    web = Chat(stack, "unused")  # only for the sandbox pages

    asked = bodies(resident.say("gas bill ki copy bhejo"))
    assert "SSO ID" in asked
    resident.say(PRIYA)
    companies = bodies(resident.say(web.latest_otp(PRIYA_MOBILE)))
    assert "जुड़ गई" in companies  # romanised Hindi: the conversation is in Hindi
    tgpl = re.search(r"(\d+)\. TGPL\b", companies)
    assert tgpl, companies  # the gas companies come as numbered options
    sent = resident.say(tgpl.group(1))
    if not [m for m in sent if m.get("MediaUrl")]:  # the number, unless saved already
        sent = resident.say("1000234567")

    media = [m for m in sent if m.get("MediaUrl")]
    assert len(media) == 1, sent
    body = media[0]["Body"]
    assert "TGPL" in body and "कॉपी" in body and "₹918.50" in body
    assert re.search(r"1\. ₹918\.50 भरें", body)  # and the bill can be paid from there
    assert "/bills/" in media[0]["MediaUrl"]
    pdf = httpx.get(media[0]["MediaUrl"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    fraud = bodies(resident.say("ye message asli hai kya"))
    assert "1930" in fraud
