"""A table with an incoming foreign key: online alters must be refused."""
