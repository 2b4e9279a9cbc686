"""Read use cases of voting: elections (the one "is it open?" rule, contexts) and eligibility
(the election's key, who holds a token, whether a ballot is authorized)."""
