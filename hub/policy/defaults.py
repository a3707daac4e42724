"""The policy a store gets when it configures none."""

from __future__ import annotations

from pathlib import Path

from hub.policy.loader import load_policy

# A complete policy using every section, shipped as a starting point and documented in docs/policy.md.
EXAMPLE_POLICY_PATH = Path(__file__).with_name("example.toml")

# Every absent key takes its default, so the default policy is the empty policy: a 30-day window
# from delivery (falling back to fulfilment, payment, order), review above 500 in any currency,
# gift cards excluded, final sale denied (reviewed when reported damaged or wrong), used digital
# goods reviewed, disputes denied, shipping refunded, no fees, no abuse limits.
DEFAULT_POLICY = load_policy({"version": "default"})
