"""The pure parts of `make converse-eval`: SMS segments, residents' copies and placeholders,
recognising domain responses, goals and the figures. No stack needed."""

from __future__ import annotations

import math
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from integrations.billers.catalog import load_billers
from integrations.sandbox.seeding import load_seed
from scripts.converse_eval.residents import (
    NoCodeSent,
    PlaceholderError,
    copy_resident,
    fill,
    load_seed_residents,
    write_seed,
)
from scripts.converse_eval.responses import (
    DEVANAGARI,
    DOMAIN_DIR,
    ResponseCatalog,
    normalise,
    pattern_of,
)
from scripts.converse_eval.sms import GSM7_BASIC, GSM7_EXTENSION, encoding, segments

BASIC = sorted(GSM7_BASIC)
EXTENSION = sorted(GSM7_EXTENSION)
HINDI_LETTERS = [chr(c) for c in range(0x0905, 0x0939)]  # letters: all in the BMP, none GSM-7


# --- SMS segments ---------------------------------------------------------------------------
@given(st.text(alphabet=BASIC, max_size=700))
def test_gsm7_text_costs_160_then_153_per_segment(text: str) -> None:
    assert encoding(text) == "gsm7"
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert segments(text) == expected


@given(
    st.text(alphabet=HINDI_LETTERS + BASIC, min_size=1, max_size=400).filter(
        lambda t: any(c in HINDI_LETTERS for c in t)
    )
)
def test_one_devanagari_letter_makes_it_ucs2_70_then_67(text: str) -> None:
    assert encoding(text) == "ucs2"
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert segments(text) == expected


@given(st.lists(st.sampled_from(EXTENSION), max_size=80), st.text(alphabet=BASIC, max_size=200))
def test_extension_characters_take_two_septets(extended: list[str], basic: str) -> None:
    text = "".join(extended) + basic
    units = 2 * len(extended) + len(basic)
    assert encoding(text) == "gsm7"
    if units <= 160:
        assert segments(text) == 1
    else:
        assert segments(text) >= math.ceil(units / 153)


def test_an_escape_sequence_is_never_split_across_segments() -> None:
    # 306 septets would fit two segments exactly, but the € would straddle the boundary.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 153 + "€" + "a" * 151) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2


def test_emoji_are_surrogate_pairs_never_split() -> None:
    assert segments("😀" * 35) == 1  # 70 code units
    assert segments("😀" * 36) == 2  # 33 a segment (66 units): 36 need two
    assert segments("😀" * 67) == 3


@given(st.text(max_size=300), st.text(max_size=300))
def test_more_text_never_costs_fewer_segments(head: str, tail: str) -> None:
    assert segments(head) <= segments(head + tail)


# --- residents and placeholders ---------------------------------------------------------------
SEED = load_seed_residents()


def test_copies_keep_billers_and_bills_with_numbers_of_their_own(tmp_path) -> None:
    copies = [copy_resident(SEED[sso_id], n) for n, sso_id in enumerate(sorted(SEED))]
    copies += [copy_resident(SEED["anita.rathore"], 999)]
    write_seed(tmp_path / "seed.yml", copies)
    # The project's own loader checks every number against its biller's format.
    loaded = load_seed(tmp_path / "seed.yml", load_billers())
    assert len(loaded.residents) == len(copies)
    numbers = [a.consumer_number for c in copies for a in c.accounts]
    assert len(set(numbers)) == len(numbers)
    assert len({c.sso_id for c in copies}) == len({c.mobile for c in copies}) == len(copies)
    for copy in copies:
        original = SEED[copy.sso_id.rstrip("0123456789")]
        for account, entry in zip(copy.accounts, original["accounts"], strict=True):
            assert account.biller_id == entry["biller_id"]
            assert len(account.consumer_number) == len(str(entry["consumer_number"]))
        assert [a["bills"] for a in copy.seed_entry["accounts"]] == [
            a["bills"] for a in original["accounts"]
        ]
        # What the bot shows (the last four digits) tells the resident's accounts apart.
        assert len({a.consumer_number[-4:] for a in copy.accounts}) == len(copy.accounts)


def test_placeholders_are_filled_from_the_residents_copy() -> None:
    anita = copy_resident(SEED["anita.rathore"], 7)
    tpadl = anita.account("TPADL").consumer_number
    assert fill("{sso_id} {mobile}", anita) == f"{anita.sso_id} {anita.mobile}"
    assert fill("mera number {account:tpadl} hai", anita) == f"mera number {tpadl} hai"
    assert fill("{account:TPADL|spaced}", anita) == f"{tpadl[:4]} {tpadl[4:8]} {tpadl[8:]}"
    assert fill("{account:TPADL|devanagari}", anita).isdigit()
    assert not re.search(r"[0-9]", fill("{account:TPADL|devanagari}", anita))
    assert fill("{sso_id|upper}", anita) == anita.sso_id.upper()
    sunita = copy_resident(SEED["sunita.devi"], 8)
    assert fill("{account:water}", sunita) == sunita.account("PHED").consumer_number
    assert fill('/inform{"biller": "PHED"}', sunita) == '/inform{"biller": "PHED"}'


def test_codes_latest_first_and_wrong() -> None:
    gopal = copy_resident(SEED["gopal.choudhary"], 1)
    codes = ["111111", "135790"]
    assert fill("code {otp}", gopal, codes) == "code 135790"
    assert fill("{otp:first}", gopal, codes) == "111111"
    assert fill("{otp|devanagari}", gopal, codes) == "१३५७९०"
    wrong = fill("{wrong_otp}", gopal, codes)
    assert re.fullmatch(r"\d{6}", wrong) and wrong not in codes
    with pytest.raises(NoCodeSent):
        fill("{otp}", gopal, [])


def test_placeholders_that_cannot_be_filled_are_refused() -> None:
    anita = copy_resident(SEED["anita.rathore"], 2)
    with pytest.raises(PlaceholderError):
        fill("{account:electricity}", anita)  # two electricity accounts: say which
    with pytest.raises(PlaceholderError):
        fill("{account:PHED}", anita)
    with pytest.raises(PlaceholderError):
        fill("{name}", anita)
    with pytest.raises(PlaceholderError):
        fill("{sso_id|shouting}", anita)


# --- recognising responses --------------------------------------------------------------------
CATALOG = ResponseCatalog.from_domain()


def test_placeholders_match_anything_and_emoji_and_spacing_do_not_matter() -> None:
    catalog = ResponseCatalog.from_responses(
        {
            "utter_nothing_due": [
                {"text": "Nothing is due on your {biller} account {consumer}. 🎉"},
                {"text": "आपके {biller} खाते {consumer} पर कुछ भी बकाया नहीं है। 🎉"},
            ]
        }
    )
    assert catalog.matches("utter_nothing_due", "Nothing is due on your KEDL account ••••5678.")
    assert catalog.matches("utter_nothing_due", "nothing is due on your KEDL\naccount ••••5678. 🎉")
    assert catalog.matches("utter_nothing_due", "आपके KEDL खाते ••••5678 पर कुछ भी बकाया नहीं है।")
    assert not catalog.matches("utter_nothing_due", "Your KEDL bill is ₹1,480.00")
    # An SMS folded to GSM-7: "•" and "₹" sent as "*" and "Rs.", the emoji dropped.
    folded = ResponseCatalog.from_responses(
        {"utter_total": [{"text": "Total due: ₹{total} on “{biller}” ••••{last4} 🎉"}]}
    )
    assert folded.matches("utter_total", 'Total due: Rs.1,480.00 on "KEDL" ****5678')
    # WhatsApp adds numbered options after the text: still recognised.
    assert catalog.names_in("Nothing is due on your KEDL account 1.\n\n1. Menu") == {
        "utter_nothing_due"
    }


def test_a_text_that_is_nearly_all_placeholders_gives_no_pattern() -> None:
    assert pattern_of("{text}") is None
    assert pattern_of("{a}: {b}") is None
    assert pattern_of("Total: {total}") is None  # 6 letters could be anywhere
    assert pattern_of("Total due: {total}") is not None


def test_every_domain_response_is_recognised_by_its_own_name() -> None:
    for path in DOMAIN_DIR.glob("*.yml"):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for name, variations in responses.items():
            for variation in variations:
                text = str(variation.get("text") or "")
                if pattern_of(text) is None:
                    continue
                said = re.sub(r"\{[a-z_]+\}", "X1 ₹2", text)
                assert CATALOG.matches(name, said), (name, said)


def test_language_switch_titles_are_known_and_removable() -> None:
    hindi = [t for t in CATALOG.language_switch_titles if DEVANAGARI.search(t)]
    assert hindi and "English" in CATALOG.language_switch_titles
    menu = f"What would you like to do?\n1. Check my bill\n5. {hindi[0]}"
    assert not DEVANAGARI.search(CATALOG.without_language_switches(menu))
    assert normalise("Done! ✅  This\n chat") == "Done! This chat"
