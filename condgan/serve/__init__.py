"""Serving exported generators over HTTP (see docs/serving.md).

app.py (Flask app factory `create_app`), registry.py (discover, load once, warm up),
validation.py (requests and JSON errors), batching.py (micro-batching), images.py (PNG),
openapi.py (the /openapi.json description).  Import `condgan.serve.app.create_app`.
"""
