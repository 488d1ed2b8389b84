"""`paydesk pay --saved-card` chooses only a card kept on file with the payer's consent, and
says so clearly when there is none (SQLite, the in-process sandbox)."""

from __future__ import annotations

from models import CardConsent, Checkout
from tests.billing.test_cli_money import DANA, cli  # noqa: F401 - the shared fixture

EXP_CVC = ("--exp", "12/30", "--cvc", "123")
THREE_D_SECURE = "4000002760003184"


def test_no_card_kept_without_consent_so_saved_card_has_none(cli):  # noqa: F811
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=100",
                       "--card", "4242424242424242", *EXP_CVC)
    assert code == 0, err
    before = Checkout.select().count()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1004=100", "--saved-card")
    assert code == 2
    assert "no card on file" in err
    assert out == ""
    assert Checkout.select().count() == before


def test_saved_card_is_the_kept_card_not_the_newest_failed_one(cli, sandbox):  # noqa: F811
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=100",
                       "--card", "4242424242424242", *EXP_CVC, "--keep-card",
                       "--staff", "Front Desk")
    assert code == 0, err
    # Newer, with consent too, but 3-D Secure was not completed: it is not kept.
    code, _, _ = cli("pay", "--client", DANA, "--invoice", "INV-1001=100",
                     "--card", THREE_D_SECURE, *EXP_CVC, "--keep-card",
                       "--staff", "Front Desk")
    assert code == 1
    assert CardConsent.select().count() == 2
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1004=100", "--saved-card")
    assert code == 0, err
    assert out.split()[:3] == ["INV-1004", "$100.00", "captured"]
    last = Checkout.select().order_by(Checkout.id.desc()).get()
    assert (last.method, last.card_last4) == ("card_saved", "4242")


def test_keep_card_with_a_saved_card_is_refused(cli):  # noqa: F811
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1004=100", "--saved-card",
                       "--keep-card", "--staff", "Front Desk")
    assert code == 2
    assert "--keep-card goes with a new card" in err


def test_keep_card_needs_the_staff_member_who_heard_the_payer_agree(cli):  # noqa: F811
    """Consent is recorded with who gave it: the command line cannot claim the client
    ticked a box they never saw."""
    before = (Checkout.select().count(), CardConsent.select().count())
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1004=100",
                         "--card", "4242424242424242", *EXP_CVC, "--keep-card")
    assert code == 2
    assert "--staff" in err and out == ""
    assert (Checkout.select().count(), CardConsent.select().count()) == before
