"""The observer node's own tests: pure (no Django, no apps), run in the main suite and in a
standalone install of civic_observer alone (make test-observer-standalone)."""
