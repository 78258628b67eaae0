"""The cut-over: swap the ghost table in for the original, atomically, under a short lock."""
