"""Texts the messaging channels say on their own, outside a dialogue turn. Part of the one
catalog, `bot.messages.CATALOG`; kept in their own file for reading. Short: the Hindi ones
travel as UCS-2 SMS."""

from __future__ import annotations

from bot.model.residents import Language

CHANNEL_TEXTS: dict[str, dict[Language, str]] = {
    "please_type": {
        Language.EN: "Sorry, I can only read text. Please type your message.",
        Language.HI: "क्षमा करें, मैं केवल लिखा हुआ पढ़ सकता हूँ। कृपया अपना संदेश लिखें।",
    },
    "opted_out": {
        Language.EN: (
            "You will no longer get receipts or reminders here. Reply START to turn them back on."
        ),
        Language.HI: "अब आपको यहाँ रसीद या रिमाइंडर नहीं भेजे जाएंगे। फिर से पाने के लिए START लिखें।",
    },
    "opted_in": {
        Language.EN: "Receipts and reminders are on again. Reply STOP to turn them off.",
        Language.HI: "रसीद और रिमाइंडर फिर से चालू हैं। बंद करने के लिए STOP लिखें।",
    },
    "unavailable": {
        Language.EN: "Sorry, I cannot answer right now. Please try again in a few minutes.",
        Language.HI: "क्षमा करें, अभी उत्तर नहीं दे पा रहे हैं। कृपया कुछ मिनट बाद फिर लिखें।",
    },
    "stop_again": {
        Language.EN: "To stop receipts and reminders here too, reply STOP again.",
        Language.HI: "यहाँ रसीद और रिमाइंडर भी बंद करने के लिए फिर से STOP लिखें।",
    },
    "options_hint": {
        Language.EN: "Reply with a number.",
        Language.HI: "नंबर भेजें।",
    },
    "receipt_link": {
        Language.EN: "Receipt: {url}",
        Language.HI: "रसीद: {url}",
    },
}
