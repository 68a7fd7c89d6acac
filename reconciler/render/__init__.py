"""Rendering plans and results for people (text) and machines (JSON)."""
