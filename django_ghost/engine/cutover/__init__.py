"""The cut-over: swap the ghost table in for the original, under a short lock (cutover.py
picks the variant: atomic.py, two_step.py; attempts.py is what they share)."""
