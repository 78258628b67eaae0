"""Throttling: the Throttler protocol and its no-op, and the real throttler running one
check per source (load, flag files, forced, query, http, lag) in gh-ost's order."""
