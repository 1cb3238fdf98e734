"""The token manager: config, rotation-safe store, and the three refresh tiers."""
