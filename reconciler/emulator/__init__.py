"""Vendor emulators: real HTTP servers on loopback that behave like the vendors' APIs."""
