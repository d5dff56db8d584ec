"""Benchmarks: each script prints its figures; `make bench` runs them (not `make test`)."""
