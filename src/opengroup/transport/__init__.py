"""Transports turn bytes into an ApiRequest and a reply back into bytes. They know nothing
about rooms: `onion` (the v3 envelope real clients use) and `legacy` (direct HTTP)."""
