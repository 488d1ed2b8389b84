"""`StripeGateway.events_page` over the sandbox: newest first; `ending_before` gives the
events just newer than a cursor, `starting_after` those just older."""

from __future__ import annotations

import pytest

from gateway.events import SignatureRefused, verified_event


def test_events_page_reads_both_ways_from_a_cursor(gateway):
    for n in range(5):
        gateway.find_or_create_customer(client_ref=f"client-{n}", email=f"c{n}@example.com",
                                        name=f"Client {n}", idempotency_key=f"cus-{n}")
    everything = gateway.events_page(limit=100)
    ids = [e["id"] for e in everything.events]  # newest first
    assert len(ids) >= 5 and not everything.has_more

    newer = gateway.events_page(ending_before=ids[3], limit=2)
    older = gateway.events_page(starting_after=ids[1], limit=2)

    assert [e["id"] for e in newer.events] == ids[1:3] and newer.has_more
    assert [e["id"] for e in older.events] == ids[2:4]
    assert all(e["object"] == "event" and "data" in e for e in newer.events)


def test_an_unsigned_body_is_no_event():
    with pytest.raises(SignatureRefused, match="no valid signature"):
        verified_event(b'{"id": "evt_1", "object": "event"}', None, "whsec_x")
    with pytest.raises(SignatureRefused, match="no webhook signing secret"):
        verified_event(b"{}", "t=1,v1=00", "")


def test_events_page_filters_by_type_and_time_and_knows_the_account(gateway):
    for n in range(3):
        gateway.find_or_create_customer(client_ref=f"client-{n}", email=f"c{n}@example.com",
                                        name=f"Client {n}", idempotency_key=f"cus-{n}")
    everything = gateway.events_page(limit=100).events
    kinds = {e["type"] for e in everything}
    assert "customer.created" in kinds
    newest = everything[0]

    only = gateway.events_page(types=["customer.created"], limit=100).events
    since = gateway.events_page(created_gte=newest["created"] + 1, limit=100).events
    account = gateway.account_id()

    assert only and {e["type"] for e in only} == {"customer.created"}
    assert since == ()
    assert account and account.startswith("acct_")


def test_a_cursor_stripe_does_not_keep_is_resource_missing(gateway):
    from gateway.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as refused:
        gateway.events_page(ending_before="evt_not_kept_any_more", limit=10)
    assert refused.value.code == "resource_missing"
