"""Benchmarks of vapi: `python -m bench` (see __main__.py)."""
