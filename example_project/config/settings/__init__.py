"""Settings split per environment: base, development, production."""
