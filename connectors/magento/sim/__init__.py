"""Pieces of the Magento simulator: state, searchCriteria, OAuth 1.0a server, Adobe pushes, REST routes."""
