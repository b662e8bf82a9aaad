"""Email receipts and reminders (issue 16) on the real trained model, through the public
contract only: the web chat in English (a typo'd address, a wrong code, the right one, a paid
receipt arriving by email with its PDF, "my data", removal after a yes) and WhatsApp in Hindi
(adding and removing), every mail read back from GET /sandbox/email."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import Chat, Stack, payloads, text_of
from tests.e2e.test_walking_skeleton import pay_in_sandbox
from tests.e2e.test_whatsapp_on_real_model import WhatsAppResident, bodies

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Accounts no other end-to-end flow pays: Anita's TPADL bill (₹1,120.00; her data is erased
# at the end, so no saved account is left for the other tests), and Sunita linked from a
# WhatsApp number of her own that no other test uses.
ANITA, ANITA_MOBILE, ANITA_TPADL = "anita.rathore", "+917014100006", "4100567890"
SUNITA, SUNITA_MOBILE = "sunita.devi", "+919414100002"
SUNITA_OTHER_WHATSAPP = "+919000016077"


def mail_to(chat: Chat, address: str) -> list[dict]:
    response = chat.http.get("/sandbox/email", params={"to": address})
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def code_in(mail: dict) -> str:
    match = re.search(r"\b(\d{6})\b", mail["text"])
    assert match, mail["text"]
    return match.group(1)


def test_web_chat_adds_an_email_gets_the_receipt_there_and_removes_it(stack: Stack) -> None:
    address = f"anita.{uuid.uuid4().hex[:8]}@gmail.com"
    chat = Chat(stack, f"e2e-email-{uuid.uuid4().hex[:8]}")
    chat.say("I want to link my SSO ID")
    chat.say(ANITA)
    chat.say(chat.latest_otp(ANITA_MOBILE))

    asked = text_of(chat.say("please send my receipts to my email"))
    assert "Which email address" in asked and 'Type "cancel" to stop' in asked

    # A typo is answered and asked again; nothing is sent anywhere.
    assert "does not look like an email address" in text_of(chat.say("anita at gmail dot com"))

    sent = text_of(chat.say(address))
    assert "I sent a code to a•••@gmail.com" in sent and address not in sent
    (mail,) = mail_to(chat, address)
    assert mail["to"] == address and mail["attachments"] == []
    code = code_in(mail)

    wrong = "111111" if code != "111111" else "222222"
    assert "4 more tries" in text_of(chat.say(wrong))
    done = text_of(chat.say(code))
    assert "receipts (as PDF) and bill reminders will also go to a•••@gmail.com" in done

    held = text_of(chat.say("what data do you have about me"))
    assert "a•••@gmail.com" in held and address not in held

    # A paid bill: the receipt comes in the chat, as always, and by email with its PDF.
    chat.say("I want to pay my electricity bill")
    chat.say('/inform{"biller": "TPADL0000RAJ01"}')
    question = chat.say(ANITA_TPADL)
    assert "₹1,120.00" in text_of(question) and "/affirm" in payloads(question)
    link = text_of(chat.say("yes"))
    assert pay_in_sandbox(chat, link)["status"] == "paid"
    receipts = [m for m in chat.pushed() if m.get("attachment")]
    assert len(receipts) == 1
    number = re.search(r"Receipt no\. (\S+),", receipts[0]["text"])
    assert number, receipts[0]["text"]
    emailed = [m for m in mail_to(chat, address) if m["attachments"]]
    assert len(emailed) == 1
    assert emailed[0]["attachments"] == [f"receipt-{number.group(1)}.pdf"]
    assert "₹1,120.00" in emailed[0]["subject"] and "••••7890" in emailed[0]["text"]
    assert ANITA_TPADL not in emailed[0]["text"]

    # Removing asks first; a yes forgets the address.
    asked = chat.say("remove my email")
    assert "Remove a•••@gmail.com?" in text_of(asked) and "/affirm" in payloads(asked)
    assert "no longer hold your email address" in text_of(chat.say("yes"))
    held = text_of(chat.say("what data do you have about me"))
    assert "email for receipts: none" in held
    assert "No email address is saved" in text_of(chat.say("remove my email"))

    # Erasing everything leaves Anita as the other tests expect her: no saved account.
    assert "/affirm" in payloads(chat.say("delete my data"))
    assert "your data is erased" in text_of(chat.say("yes"))


def test_whatsapp_in_hindi_adds_and_removes_an_email(stack: Stack) -> None:
    address = f"sunita.{uuid.uuid4().hex[:8]}@yahoo.in"
    resident = WhatsAppResident(stack, SUNITA_OTHER_WHATSAPP)
    web = Chat(stack, "unused")  # only for the sandbox pages

    resident.say("नमस्ते, मुझे अपनी SSO ID जोड़नी है")
    resident.say(SUNITA)
    resident.say(web.latest_otp(SUNITA_MOBILE))

    asked = bodies(resident.say("मेरा ईमेल जोड़ो"))
    assert "ईमेल पते" in asked

    sent = bodies(resident.say(f"मेरा ईमेल {address} है"))
    assert "s•••@yahoo.in" in sent and address not in sent
    (mail,) = mail_to(web, address)
    assert re.search(r"[\u0900-\u097F]", mail["subject"])  # the code mail speaks Hindi too

    done = bodies(resident.say(code_in(mail)))
    assert "s•••@yahoo.in पर भी हिंदी में" in done

    asked = bodies(resident.say("मेरा ईमेल हटाओ"))
    assert "s•••@yahoo.in हटा दें?" in asked
    assert "हटा दिया" in bodies(resident.say("हाँ"))
    assert "कोई ईमेल पता सहेजा नहीं" in bodies(resident.say("मेरा ईमेल हटाओ"))
