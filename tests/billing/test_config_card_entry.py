"""kiosk.card_entry: how the kiosk takes a card, in tab order, from the file (a list) or
PAYDESK_KIOSK_CARD_ENTRY (a comma list); keyed entry only in test mode or with the
account's raw-card-data access; the front desk keeps every way but that one rule."""

from __future__ import annotations

import pytest

from billing.card_entry import offered_ways
from billing.config import ConfigError, load_settings

LIVE = "sk_live_" + "k" * 24


def settings(tmp_path, toml: str = "", **environ: str):
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(path, environ=environ)


def test_the_kiosk_reads_the_reader_first_then_the_phone_by_default(tmp_path):
    loaded = settings(tmp_path)
    assert loaded.kiosk.card_entry == ("reader", "phone")
    assert offered_ways(loaded, "kiosk") == ("reader", "phone")
    assert offered_ways(loaded, "desk") == ("keyed", "reader", "phone")
    assert offered_ways(loaded, "demo") == ("keyed", "reader", "phone")


def test_the_file_lists_the_ways_in_tab_order_and_the_environment_wins(tmp_path):
    toml = '[kiosk]\ncard_entry = ["phone", "Keyed", "reader"]\n'
    assert settings(tmp_path, toml).kiosk.card_entry == ("phone", "keyed", "reader")
    loaded = settings(tmp_path, toml, PAYDESK_KIOSK_CARD_ENTRY=" keyed , phone")
    assert loaded.kiosk.card_entry == ("keyed", "phone")
    assert offered_ways(loaded, "kiosk") == ("keyed", "phone")  # test mode: keyed is offered


def test_a_live_key_without_raw_card_access_offers_no_keyed_entry(tmp_path):
    toml = '[kiosk]\ncard_entry = ["keyed", "reader", "phone"]\n'
    live = settings(tmp_path, toml, STRIPE_API_KEY=LIVE)
    assert offered_ways(live, "kiosk") == ("reader", "phone")
    assert offered_ways(live, "desk") == ("reader", "phone")
    raw = settings(tmp_path, toml, STRIPE_API_KEY=LIVE,
                   PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS="true")
    assert offered_ways(raw, "kiosk") == ("keyed", "reader", "phone")
    assert offered_ways(raw, "desk") == ("keyed", "reader", "phone")
    # Listed or not, the kiosk takes no typed card unless the setting asks for it.
    assert offered_ways(settings(tmp_path, STRIPE_API_KEY=LIVE,
                                 PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS="true"), "kiosk") == (
        "reader", "phone")


@pytest.mark.parametrize("toml, environ, needle", [
    ('[kiosk]\ncard_entry = ["reader", "swipe"]\n', {}, "'swipe' is not one of them"),
    ('[kiosk]\ncard_entry = []\n', {}, "must list at least one of reader, phone, keyed"),
    ('[kiosk]\ncard_entry = ["phone", "phone"]\n', {}, "lists a way twice"),
    ('[kiosk]\ncard_entry = [1, 2]\n', {}, "must be a list of reader, phone, keyed"),
    ('[kiosk]\ncard_entry = 3\n', {}, "must be a list of reader, phone, keyed"),
    ("", {"PAYDESK_KIOSK_CARD_ENTRY": "reader,,phone"}, "'' is not one of them"),
    ('[kiosk]\ncard_entry = ["keyed"]\n', {"STRIPE_API_KEY": LIVE},
     "stripe.raw_card_data_access"),
])
def test_a_wrong_list_names_the_setting(tmp_path, toml, environ, needle):
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, toml, **environ)
    assert "kiosk.card_entry" in str(caught.value) and needle in str(caught.value)
    if environ.get("PAYDESK_KIOSK_CARD_ENTRY"):
        assert str(caught.value).startswith("PAYDESK_KIOSK_CARD_ENTRY: ")


def test_only_keyed_is_accepted_where_a_typed_card_can_be_sent(tmp_path):
    toml = '[kiosk]\ncard_entry = ["keyed"]\n'
    assert settings(tmp_path, toml).kiosk.card_entry == ("keyed",)
    raw = settings(tmp_path, toml, STRIPE_API_KEY=LIVE, PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS="1")
    assert offered_ways(raw, "kiosk") == ("keyed",)
