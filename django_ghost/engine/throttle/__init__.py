"""Throttling: the Throttler protocol and its no-op, the real throttler, its options and the
readers it takes its inputs from."""
