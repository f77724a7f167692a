"""Use cases. Each takes a session (and ports) as arguments, flushes, and never commits."""
