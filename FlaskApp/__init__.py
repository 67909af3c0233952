"""The web front of condgan: `endpoint_full.py` serves models/ (see docs/serving.md)."""
