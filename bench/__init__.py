"""Benchmarks: speed is measured here, over loopback, never asserted by timed tests.

Run all with `make bench` (or `.venv/bin/python -m bench [name ...]`). Each benchmark
prints requests, wall time, throughput and latency percentiles.
"""
