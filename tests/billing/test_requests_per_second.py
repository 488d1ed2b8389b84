"""The [stripe] requests_per_second setting: read from the file and the environment,
checked, and handed to the gateway's rate limiter (Stripe's limit for the key's mode when
unset)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing.config import ConfigError, load_settings
from billing.services import _connect

# These tests are about Stripe's own rates, which the suite otherwise raises.
pytestmark = pytest.mark.stripe_rate_limits


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_setting_comes_from_the_file_then_the_environment(tmp_path):
    path = write(tmp_path, "[stripe]\nrequests_per_second = 60\n")
    assert load_settings(path, environ={}).stripe.requests_per_second == 60
    env = {"PAYDESK_STRIPE_REQUESTS_PER_SECOND": "40"}
    assert load_settings(path, environ=env).stripe.requests_per_second == 40
    assert load_settings(write(tmp_path, ""), environ={}).stripe.requests_per_second is None


@pytest.mark.parametrize("value", ["0", "-3", "fast"])
def test_a_rate_below_one_or_not_a_number_is_refused_by_name(tmp_path, value):
    with pytest.raises(ConfigError, match="requests_per_second"):
        load_settings(write(tmp_path, ""),
                      environ={"PAYDESK_STRIPE_REQUESTS_PER_SECOND": value})


def limiter_rate(gateway) -> int:
    return gateway._client._requestor._client.limiter.rate


def test_the_gateway_limits_requests_to_the_setting_or_to_stripes_test_mode_limit(tmp_path):
    settings = load_settings(write(tmp_path, ""), environ={},
                             overrides={"database.url": str(tmp_path / "paydesk.db")})
    for wanted, expected in ((None, 25), (40, 40)):
        chosen = replace(settings, stripe=replace(settings.stripe, requests_per_second=wanted))
        _, gateway, sandbox = _connect(chosen)  # no key: the in-process sandbox, test mode
        try:
            assert limiter_rate(gateway) == expected
        finally:
            sandbox.stop()
