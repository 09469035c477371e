"""Serving: the FastAPI gateway, model backends, feedback store (see serving/README.md)."""
