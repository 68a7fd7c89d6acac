"""Placeholder: filled in by the vendor work that owns this kind or rule set."""
