"""Texts about residents' privacy said by the gateway itself (not by Rasa): the warning after
a secret was typed, and abuse-limit answers. Part of the one catalog, `bot.messages.CATALOG`."""

from __future__ import annotations

from bot.model.residents import Language

PRIVACY_TEXTS: dict[str, dict[Language, str]] = {
    # DPDP Act s.5 notice: what, why, rights, how to complain. Version: NOTICE_VERSION.
    "privacy_notice": {
        Language.EN: (
            "Privacy: to help with your bills I keep your chat address, your SSO ID, name and "
            "mobile once you link them, your consumer numbers and payments, encrypted, only "
            'for this service. By writing again you agree. Type "what do you know about me" '
            'to see it, "delete my data" to erase it (payment records the law requires are '
            "kept without your name). Complaints: the grievance officer via the SSO portal."
        ),
        Language.HI: (
            "गोपनीयता: बिल में मदद के लिए हम आपका चैट पता, जोड़ने पर आपकी SSO ID, नाम और मोबाइल, "
            "उपभोक्ता संख्याएँ और भुगतान, एन्क्रिप्ट करके, केवल इसी सेवा के लिए रखते हैं। आगे लिखकर "
            'आप सहमति देते हैं। देखने के लिए "मेरा डेटा दिखाओ", मिटाने के लिए "मेरा डेटा मिटाओ" '
            "लिखें (कानूनन ज़रूरी भुगतान रिकॉर्ड बिना आपके नाम के रखे जाते हैं)। शिकायत: SSO पोर्टल "
            "के शिकायत अधिकारी।"
        ),
    },
    # The same notice where every character is paid: the essentials and a link to it all.
    "privacy_notice_sms": {
        Language.EN: (
            "Privacy: your chat, SSO ID and bills are kept encrypted, only for this service. "
            "Writing on means you agree. Details: {url}"
        ),
        Language.HI: "गोपनीयता: डेटा एन्क्रिप्टेड, केवल इस सेवा हेतु; आगे लिखना सहमति: {url}",
    },
    "rate_limited": {
        Language.EN: "You are sending messages very fast. Please wait a minute, then write again.",
        Language.HI: "आप बहुत जल्दी-जल्दी संदेश भेज रहे हैं। कृपया एक मिनट रुककर फिर लिखें।",
    },
    "sensitive_warning": {
        Language.EN: (
            "For your safety I removed what looked like a password, card number, CVV or "
            "Aadhaar number from your message; it was not stored. Never share these in a "
            "chat: this assistant never needs them, and you pay only on the secure payment page."
        ),
        Language.HI: (
            "आपकी सुरक्षा के लिए आपके संदेश से पासवर्ड, कार्ड नंबर, CVV या आधार नंबर जैसी जानकारी "
            "हटा दी गई है; उसे सहेजा नहीं गया। इन्हें कभी चैट में न भेजें: इस सहायक को इनकी ज़रूरत "
            "नहीं होती, और भुगतान केवल सुरक्षित भुगतान पेज पर होता है।"
        ),
    },
    # When part of it may have been kept (turns.py): never claim "not stored" then.
    "sensitive_warning_partial": {
        Language.EN: (
            "For your safety I removed what looked like a password, card number, CVV or "
            "Aadhaar number from your message, but part of it may have been kept. Please "
            "change that password, or call your bank if it was a card. Never share these in a "
            "chat: this assistant never needs them, and you pay only on the secure payment page."
        ),
        Language.HI: (
            "आपकी सुरक्षा के लिए आपके संदेश से पासवर्ड, कार्ड नंबर, CVV या आधार नंबर जैसी जानकारी "
            "हटा दी गई है, पर उसका कुछ हिस्सा सहेजा गया हो सकता है। कृपया वह पासवर्ड बदल लें, या "
            "कार्ड हो तो अपने बैंक को फ़ोन करें। इन्हें कभी चैट में न भेजें: इस सहायक को इनकी ज़रूरत "
            "नहीं होती, और भुगतान केवल सुरक्षित भुगतान पेज पर होता है।"
        ),
    },
}
