"""One online AddField + AddIndex on a seeded table, for the resume-after-a-crash tests."""
