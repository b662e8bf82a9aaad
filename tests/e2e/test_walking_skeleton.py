"""The product's core loop on the real trained model, through the web chat API only:
link an SSO ID (OTP read from the sandbox SMS outbox) → see a bill → pay in the sandbox →
receive the PDF receipt in the chat → history. Once in English, once in Hindi/Hinglish."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.e2e.conftest import Chat, Stack, payloads, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def pay_in_sandbox(chat: Chat, link_message: str, outcome: str = "success") -> dict:
    match = re.search(r"/sandbox/pay/(plink_\w+)", link_message)
    assert match, f"no payment link in: {link_message}"
    page = chat.http.get(f"/sandbox/pay/{match.group(1)}")
    assert page.status_code == 200
    settled = chat.http.post(f"/sandbox/pay/{match.group(1)}", json={"outcome": outcome})
    assert settled.status_code == 200, settled.text
    return dict(settled.json())


def download(chat: Chat, url: str) -> httpx.Response:
    response = chat.http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.content.startswith(b"%PDF")
    return response


def test_english_resident_links_checks_pays_and_gets_a_receipt(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-en-{uuid.uuid4().hex[:8]}")

    greeting = chat.say("Hi")
    assert "bill assistant" in text_of(greeting)
    assert "/check_bill" in payloads(greeting)

    asked = text_of(chat.say("how much is my electricity bill?"))
    assert "link your SSO ID" in asked and "never ask for your password" in asked
    assert 'Type "cancel" to stop' in asked  # every question says how to leave it

    sent = text_of(chat.say("ramesh.kumar"))
    # The same answer for an SSO ID that does not exist, and no digits of the mobile.
    assert "6-digit code" in sent and "If this SSO ID is registered" in sent
    assert "0001" not in sent

    otp = chat.latest_otp("+919829100001")
    wrong = "111111" if otp != "111111" else "222222"
    assert "2 more tries" in text_of(chat.say(wrong))

    linked = chat.say(otp)
    assert "linked to the SSO ID of Ra***" in text_of(linked)
    assert '/inform{"biller": "JVVNL0000RAJ01"}' in payloads(linked)  # asks the company

    assert "K Number (12 digits)" in text_of(chat.say("JVVNL"))
    assert "doesn't look right" in text_of(chat.say("2101 4567 891"))  # one digit short
    assert "no account" in text_of(chat.say("2101 4567 0000"))  # well-formed, unknown

    # The bill, and at once the question whether to pay it (no fee for the discoms).
    bill_and_question = chat.say("2101 4567 8912")
    bill = text_of(bill_and_question)
    assert "Total due: ₹3,107.50" in bill and "20 Dec 2026" in bill and "••••8912" in bill
    assert "payment link for ₹3,107.50" in bill and "/affirm" in payloads(bill_and_question)

    # Off the script at the yes/no question: the number typed again re-asks it (not the menu).
    again = chat.say("2101 4567 8912")
    assert "yes or no" in text_of(again) and "/affirm" in payloads(again)

    link = text_of(chat.say("yes"))
    assert "/sandbox/pay/plink_" in link
    settled = pay_in_sandbox(chat, link)
    assert settled["status"] == "paid" and settled["webhook_status"] == 200

    pushed = chat.pushed()
    receipts = [m for m in pushed if m.get("attachment")]
    assert len(receipts) == 1, pushed
    assert "Payment received" in receipts[0]["text"] and "₹3,107.50" in receipts[0]["text"]
    download(chat, receipts[0]["attachment"]["url"])
    assert chat.pushed() == []  # nothing is pushed twice

    history = text_of(chat.say("show my payment history"))
    assert "✅" in history and "₹3,107.50" in history

    again = chat.say("send me the receipt of my last payment")
    attachments = [m["attachment"] for m in again if m.get("attachment")]
    assert attachments and download(chat, attachments[0]["url"])

    # The account was saved and the bill is now paid at the biller.
    assert "Nothing is due" in text_of(chat.say("check my electricity bill"))

    # Unlinking asks first; a no changes nothing, a yes unlinks.
    asked = chat.say("unlink my sso id")
    assert "Unlink this chat" in text_of(asked) and "/affirm" in payloads(asked)
    chat.say("no")
    assert "✅" in text_of(chat.say("/payment_history"))  # still linked
    chat.say("/unlink_account")
    assert "no longer linked" in text_of(chat.say("yes"))
    assert "link your SSO ID first" in text_of(chat.say("/payment_history"))


def test_hindi_resident_does_the_same_in_hinglish_and_devanagari(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-hi-{uuid.uuid4().hex[:8]}")

    greeting = text_of(chat.say("नमस्ते"))
    assert "राजस्थान बिल सहायक" in greeting

    asked = text_of(chat.say("bijli ka bill bharna hai"))
    assert DEVANAGARI.search(asked) and "SSO ID" in asked

    sent = text_of(chat.say("sunita.devi"))
    assert "0002" not in sent and DEVANAGARI.search(sent)

    otp = chat.latest_otp("+919414100002")
    linked = text_of(chat.say(otp.translate(TO_DEVANAGARI)))  # typed with Hindi digits
    assert "जुड़ गई" in linked

    assert "K Number" in text_of(chat.say("jodhpur"))
    bill_and_confirm = chat.say("४१०३ ८९०१ २३४५")
    shown = text_of(bill_and_confirm)
    assert "₹1,096.00" in shown and "दिसंबर" in shown and "/affirm" in payloads(bill_and_confirm)

    link = text_of(chat.say("haan"))
    assert "/sandbox/pay/plink_" in link and DEVANAGARI.search(link)
    pay_in_sandbox(chat, link)

    receipts = [m for m in chat.pushed() if m.get("attachment")]
    assert len(receipts) == 1 and "भुगतान मिल गया" in receipts[0]["text"]
    download(chat, receipts[0]["attachment"]["url"])

    history = text_of(chat.say("mera payment history dikhao"))
    assert "✅" in history and "₹1,096.00" in history


def test_a_failed_payment_is_reported_and_nothing_is_marked_paid(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-fail-{uuid.uuid4().hex[:8]}")
    chat.say("/link_account")
    chat.say("anita.rathore")
    chat.say(chat.latest_otp("+917014100006"))
    chat.say("/pay_bill")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "BESLOB000RAJ02"}')
    assert "/affirm" in payloads(chat.say("710634567890"))
    link = text_of(chat.say("/affirm"))
    assert pay_in_sandbox(chat, link, outcome="failure")["status"] == "failed"
    pushed = chat.pushed()
    assert len(pushed) == 1 and "did not go through" in pushed[0]["text"]
    assert "Total due: ₹2,015.00" in text_of(chat.say("/check_bill"))  # still due


def test_a_biller_timeout_gets_a_polite_try_again(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-timeout-{uuid.uuid4().hex[:8]}")
    chat.say("/link_account")
    chat.say("priya.meena")
    chat.say(chat.latest_otp("+918003100004"))
    chat.say("/check_bill")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "JVVNL0000RAJ01"}')
    assert "try again in a few minutes" in text_of(chat.say("210199999999"))
