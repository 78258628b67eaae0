"""Verification: the checksum that compares the ghost with the original before cut-over."""
