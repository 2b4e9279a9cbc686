"""Write use cases of voting: elections (create, publish the context, open) and eligibility
(the per-election blind-signature key, token issuance)."""
