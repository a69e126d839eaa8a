"""Token signing and verification (JWT, JWKS)."""
