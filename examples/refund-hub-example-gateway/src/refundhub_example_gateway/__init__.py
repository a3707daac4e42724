"""ExamplePay for Refund Hub: an example third-party gateway plugin.

Registered in the ``refund_hub.gateways`` entry-point group as ``examplepay`` (pyproject.toml).
The hub loads it only for a ``[gateways.<account>]`` table whose ``type`` is ``examplepay``.
``refundhub_example_gateway.simulator`` is an in-process ExamplePay for tests.
"""

from refundhub_example_gateway.gateway import ExamplePayError, ExamplePayGateway

__all__ = ["ExamplePayError", "ExamplePayGateway"]
