"""The receipt check page (GET /verify/<receipt number>) and the bill-copy download's
answers. Part of the one catalog, `bot.messages.CATALOG`; kept in their own file for reading.

The check page is read by whoever holds a receipt (a shopkeeper, a clerk, family), often on
a phone: short sentences, and both languages unless the address asks for one.
"""

from __future__ import annotations

from bot.model.residents import Language

VERIFICATION_TEXTS: dict[str, dict[Language, str]] = {
    "verify_product": {
        Language.EN: "Rajasthan Bill Assistant",
        Language.HI: "राजस्थान बिल सहायक",
    },
    "verify_title": {
        Language.EN: "Check a receipt",
        Language.HI: "रसीद की जाँच",
    },
    "verify_genuine": {
        Language.EN: "Genuine receipt",
        Language.HI: "असली रसीद",
    },
    "verify_genuine_text": {
        Language.EN: (
            "We issued this receipt. Check that these details match the receipt you were "
            "shown: a receipt with other details is not genuine."
        ),
        Language.HI: (
            "यह रसीद हमने जारी की है। देख लें कि यह ब्योरा आपको दिखाई गई रसीद से मिलता है: "
            "अलग ब्योरे वाली रसीद असली नहीं है।"
        ),
    },
    "verify_not_ours": {
        Language.EN: "We cannot confirm this receipt",
        Language.HI: "इस रसीद की पुष्टि नहीं हो सकी",
    },
    "verify_not_ours_text": {
        Language.EN: (
            "We issued no receipt with this number and code. Check that both are typed "
            "exactly as printed. If they are, do not accept this receipt as proof of payment."
        ),
        Language.HI: (
            "इस नंबर और कोड की कोई रसीद हमने जारी नहीं की। जाँच लें कि दोनों ठीक वैसे ही लिखे "
            "हैं जैसे छपे हैं। अगर ऐसा है, तो इस रसीद को भुगतान का सबूत न मानें।"
        ),
    },
    "verify_ask_code": {
        Language.EN: "Type the code printed next to the QR code on the receipt.",
        Language.HI: "रसीद पर QR कोड के पास छपा कोड लिखें।",
    },
    "verify_code_label": {
        Language.EN: "Code on the receipt",
        Language.HI: "रसीद पर छपा कोड",
    },
    "verify_button": {
        Language.EN: "Check",
        Language.HI: "जाँचें",
    },
    "verify_receipt_number": {
        Language.EN: "Receipt number",
        Language.HI: "रसीद संख्या",
    },
    "verify_biller": {
        Language.EN: "Paid to",
        Language.HI: "किसे भुगतान",
    },
    "verify_consumer": {
        Language.EN: "Consumer number",
        Language.HI: "उपभोक्ता संख्या",
    },
    "verify_amount": {
        Language.EN: "Amount paid",
        Language.HI: "भुगतान राशि",
    },
    "verify_paid_on": {
        Language.EN: "Paid on",
        Language.HI: "भुगतान की तारीख",
    },
    "verify_busy": {
        Language.EN: "Too many checks from here",
        Language.HI: "यहाँ से बहुत ज़्यादा जाँच हुईं",
    },
    "verify_busy_text": {
        Language.EN: "Please wait a minute, then open the link or scan the QR code again.",
        Language.HI: "कृपया एक मिनट रुकें, फिर लिंक खोलें या QR कोड दोबारा स्कैन करें।",
    },
    "verify_safety": {
        Language.EN: (
            "We never ask for card details, and never for payment outside the payment "
            "links we send in our own chat."
        ),
        Language.HI: (
            "हम कभी कार्ड की जानकारी नहीं माँगते, और अपनी चैट में भेजे गए भुगतान लिंक के "
            "अलावा कहीं भुगतान नहीं माँगते।"
        ),
    },
    # The bill-copy download, opened from a link (SMS shows the link itself).
    "bill_copy_link_invalid": {
        Language.EN: (
            'This bill link is not valid or has expired. Ask the bill assistant again: "send '
            'my bill copy".'
        ),
        Language.HI: 'यह बिल लिंक सही नहीं है या पुराना हो गया है। बिल सहायक से फिर लिखें: "बिल की कॉपी भेजो"।',
    },
    "bill_copy_gone": {
        Language.EN: "This bill is no longer available here. Ask the bill assistant for it again.",
        Language.HI: "यह बिल अब यहाँ उपलब्ध नहीं है। बिल सहायक से इसे फिर माँगें।",
    },
    "bill_copy_biller_down": {
        Language.EN: (
            "The company that sends this bill is not answering right now. "
            "Please open this link again in a few minutes."
        ),
        Language.HI: "यह बिल भेजने वाली कंपनी अभी जवाब नहीं दे रही है। कृपया कुछ मिनट बाद यह लिंक फिर खोलें।",
    },
    "bill_copy_link": {
        Language.EN: "Bill: {url}",
        Language.HI: "बिल: {url}",
    },
}
