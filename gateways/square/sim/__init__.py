"""The Square simulator: the refund, payment and webhook surface the squareup SDK uses, over real HTTP."""

from gateways.square.sim.server import SquareSimulator

__all__ = ["SquareSimulator"]
