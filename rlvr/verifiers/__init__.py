"""Rule-based verifiers, one module per family; sandbox.py runs untrusted programs."""
