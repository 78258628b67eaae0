"""Tests of the django-ghost command line (its flag table against gh-ost's)."""
