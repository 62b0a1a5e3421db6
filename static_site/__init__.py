"""The family diary site and printable paper, built from the hub's database."""
