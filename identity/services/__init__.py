"""Write use cases of identity, one module per family: challenges, DIDs, claims, credentials,
status lists and presentations.

Every function that changes state runs in one transaction together with its ledger outbox row
(``ledger.services.append``), so a credential and its public commitment exist together or not
at all. Errors are :mod:`identity.errors` (platform DomainErrors), answered by the one handler.
"""
