"""Apply: refresh live state, resolve interrupted writes, execute a plan against the vendors."""
