"""Texts of power complaints sent outside a turn (the company's status changes), and the
status words the turn's answers use too. Part of the one catalog, `bot.messages.CATALOG`."""

from __future__ import annotations

from bot.model.residents import Language

SUPPLY_TEXTS: dict[str, dict[Language, str]] = {
    "supply_status_changed": {
        Language.EN: (
            "Update from {biller} on your power complaint {ticket} (consumer number "
            "{consumer}): {status}.{note}"
        ),
        Language.HI: (
            "आपकी बिजली शिकायत {ticket} (उपभोक्ता संख्या {consumer}) पर {biller} से अपडेट: "
            "{status}।{note}"
        ),
    },
    "supply_note": {
        Language.EN: " Note: {note}",
        Language.HI: " टिप्पणी: {note}",
    },
    "supply_status_registered": {
        Language.EN: "registered, waiting for a line crew",
        Language.HI: "दर्ज है, लाइन टीम का इंतज़ार है",
    },
    "supply_status_assigned": {
        Language.EN: "a line crew is working on it",
        Language.HI: "लाइन टीम इस पर काम कर रही है",
    },
    "supply_status_resolved": {
        Language.EN: "supply restored, complaint resolved",
        Language.HI: "बिजली बहाल, शिकायत का समाधान हो गया",
    },
    "supply_status_closed": {
        Language.EN: "closed by the company",
        Language.HI: "कंपनी ने बंद कर दी",
    },
}
