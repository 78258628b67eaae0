"""A small app whose migration folders (flows/*) exercise every operation kind."""
