"""The Magento / Adobe Commerce simulator: REST API, OAuth 1.0a, searchCriteria, signed Adobe pushes.

``server`` is the simulator; ``state`` what it holds, ``seed`` what it is seeded with, ``rest`` its
REST routes (with ``search`` for ``searchCriteria``), ``auth`` the integration's OAuth 1.0a server,
``hooks`` and ``signing`` the pushes, ``control`` the ``/__sim`` API, ``factory`` its sandbox factory.
"""

from connectors.magento.sim.server import MagentoSimulator

__all__ = ["MagentoSimulator"]
