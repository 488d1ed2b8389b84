"""The demo's sign-ins and the dummy hashes are argon2 hashes made once and kept as constants
(so that neither importing billing nor seeding the demo hashes anything): each must still
verify its secret, with the parameters sign-in uses today."""

from __future__ import annotations

import pytest

from billing import clients, staff
from models import PortalAccount, Staff, bind, open_database, security
from models import demo as demo_module
from models.demo import DANA_EMAIL, DANA_PASSWORD, DEMO_HASHES, DEMO_STAFF, seed_demo
from models.schema import upgrade


@pytest.mark.parametrize("secret", sorted(DEMO_HASHES))
def test_each_demo_hash_verifies_its_secret_with_todays_parameters(secret):
    stored = DEMO_HASHES[secret]
    assert security.verify_secret(stored, secret)
    assert not security.verify_secret(stored, secret + "x")
    assert not security.needs_rehash(stored)


@pytest.mark.parametrize(("stored", "secret"), [
    (staff.DUMMY_HASH, "paydesk-no-such-staff"),
    (clients.DUMMY_HASH, "paydesk-no-such-account"),
])
def test_the_dummy_hashes_cost_what_a_real_check_costs(stored, secret):
    assert security.verify_secret(stored, secret)
    assert not security.needs_rehash(stored)


def test_seeding_the_demo_hashes_nothing_and_its_sign_ins_work(tmp_path, monkeypatch):
    def no_hashing(*args, **kwargs):
        raise AssertionError("the demo was seeded by hashing a secret")

    monkeypatch.setattr(security, "hash_secret", no_hashing)
    monkeypatch.setattr("argon2.PasswordHasher.hash", no_hashing)
    db = bind(open_database(str(tmp_path / "demo.db")))
    upgrade(db)
    with db.connection_context():
        assert seed_demo()
        for name, _role, pin in DEMO_STAFF:
            assert security.verify_secret(Staff.get(Staff.name == name).pin_hash, pin)
        dana = PortalAccount.get(PortalAccount.email == DANA_EMAIL)
        assert security.verify_secret(dana.password_hash, DANA_PASSWORD)
        # Every stored hash is one of the constants.
        stored = {s.pin_hash for s in Staff.select()}
        stored |= {a.password_hash for a in PortalAccount.select()}
        assert stored <= set(DEMO_HASHES.values())
    assert not hasattr(demo_module, "hash_secret")
