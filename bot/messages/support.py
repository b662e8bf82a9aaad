"""Texts of human handoff and complaints sent outside a turn: agent replies, the return to
the bot, complaint status changes. Part of the one catalog, `bot.messages.CATALOG`."""

from __future__ import annotations

from bot.model.residents import Language

SUPPORT_TEXTS: dict[str, dict[Language, str]] = {
    "agent_joined": {
        Language.EN: "{agent} from the help desk has joined the chat.",
        Language.HI: "हेल्प डेस्क से {agent} बातचीत में जुड़ गए हैं।",
    },
    "agent_reply": {
        Language.EN: "{agent} (help desk): {text}",
        Language.HI: "{agent} (हेल्प डेस्क): {text}",
    },
    "agent_released": {
        Language.EN: "The help desk has closed this chat. You are back with the bill assistant.",
        Language.HI: "हेल्प डेस्क ने बातचीत बंद कर दी है। अब आप फिर से बिल सहायक से बात कर रहे हैं।",
    },
    "handoff_waiting": {
        Language.EN: (
            "Your message is kept for the help desk; a person will answer here. "
            'Type "bot" to come back to me.'
        ),
        Language.HI: 'आपका संदेश हेल्प डेस्क के लिए रख लिया है; कोई व्यक्ति यहीं जवाब देगा। मेरे पास लौटने के लिए "बॉट" लिखें।',
    },
    "handoff_cancelled": {
        Language.EN: "OK, you are back with the bill assistant.",
        Language.HI: "ठीक है, अब आप फिर से बिल सहायक से बात कर रहे हैं।",
    },
    "complaint_status_changed": {
        Language.EN: "Update on your complaint {complaint_id}: it is now {status}.",
        Language.HI: "आपकी शिकायत {complaint_id} पर अपडेट: अब यह {status} है।",
    },
    "complaint_about_service": {Language.EN: "About the service", Language.HI: "सेवा के बारे में"},
    "complaint_status_open": {Language.EN: "open", Language.HI: "दर्ज"},
    "complaint_status_in_progress": {Language.EN: "being worked on", Language.HI: "जाँच में"},
    "complaint_status_resolved": {Language.EN: "resolved", Language.HI: "सुलझ गई"},
    "complaint_status_rejected": {
        Language.EN: "closed without change",
        Language.HI: "बिना बदलाव के बंद",
    },
}
