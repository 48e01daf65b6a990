"""Rules: identities, tokens, permissions and limits. Plain Python: no HTTP, no SQL."""
