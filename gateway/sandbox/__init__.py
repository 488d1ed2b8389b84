"""The offline Stripe sandbox: Stripe's API, test mode, for the endpoints Paydesk uses.

    with start_sandbox() as sandbox:        # a free loopback port, in a daemon thread
        client = build_stripe_client(GatewayOptions("sk_test_x", api_base=sandbox.url))
        sandbox.faults.drop_rate = 0.5      # fault switches, changeable at run time
"""

from gateway.sandbox.faults import Faults
from gateway.sandbox.server import Sandbox, serve_forever, start_sandbox
from gateway.sandbox.store import FRONT_DESK_READER_LABEL

__all__ = ["FRONT_DESK_READER_LABEL", "Faults", "Sandbox", "serve_forever", "start_sandbox"]
