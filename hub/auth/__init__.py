"""OAuth 2.0 for the hub: scopes, clients, signing keys, token issuance and checking."""
