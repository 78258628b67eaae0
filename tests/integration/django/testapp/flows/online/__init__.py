"""One online AddField + AddIndex on a seeded table, for the concurrent-writer test."""
