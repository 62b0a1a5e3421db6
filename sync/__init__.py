"""Tetrad's sync engine: plain Python shared by the hub and the classroom client (no Flask here)."""
