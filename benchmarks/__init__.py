"""Benchmarks of natgrad (run as modules: ``python -m benchmarks.<name>``)."""
