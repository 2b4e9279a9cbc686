"""Write use cases of identity: DIDs, claims, credentials, status lists, eligibility tokens."""
