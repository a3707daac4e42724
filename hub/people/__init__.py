"""People who look at and act on the hub: accounts with roles, per-store grants, API tokens."""
