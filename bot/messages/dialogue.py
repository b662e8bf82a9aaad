"""Button titles the dialogue builds itself (not from a domain response): the meanings
offered when the NLU is unsure what a message asked for. Part of the one catalog."""

from __future__ import annotations

from bot.model.residents import Language

DIALOGUE_TEXTS: dict[str, dict[Language, str]] = {
    "intent_check_bill": {Language.EN: "Check my bill", Language.HI: "मेरा बिल देखें"},
    "intent_pay_bill": {Language.EN: "Pay a bill", Language.HI: "बिल भरें"},
    "intent_bill_copy": {Language.EN: "A copy of my bill", Language.HI: "बिल की कॉपी"},
    # After a bill copy of a bill that is due: pays that very bill (actions/bill_copies.py).
    "bill_copy_pay": {Language.EN: "Pay {amount}", Language.HI: "{amount} भरें"},
    "intent_payment_history": {Language.EN: "Payment history", Language.HI: "भुगतान इतिहास"},
    "intent_get_receipt": {Language.EN: "A receipt", Language.HI: "रसीद"},
    "intent_link_account": {Language.EN: "Link my SSO ID", Language.HI: "SSO ID जोड़ें"},
    "intent_raise_complaint": {Language.EN: "Make a complaint", Language.HI: "शिकायत दर्ज करें"},
    "intent_track_complaint": {Language.EN: "Complaint status", Language.HI: "शिकायत की स्थिति"},
    "intent_talk_to_human": {Language.EN: "Talk to a person", Language.HI: "व्यक्ति से बात"},
    "intent_set_reminder": {Language.EN: "Bill reminders", Language.HI: "बिल रिमाइंडर"},
    "intent_my_data": {Language.EN: "My data", Language.HI: "मेरा डेटा"},
    "intent_faq_offline_payment": {
        Language.EN: "Paying at e-Mitra",
        Language.HI: "ई-मित्र पर भुगतान",
    },
    "intent_faq_fees": {Language.EN: "Fees", Language.HI: "शुल्क"},
    "intent_faq_fraud": {Language.EN: "Is a message real?", Language.HI: "क्या संदेश असली है?"},
    "intent_help": {Language.EN: "Menu", Language.HI: "मेनू"},
}
