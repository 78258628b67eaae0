"""The django_ghost benchmark: ``make bench`` (``python -m bench.run``); see docs/benchmarks.md."""
