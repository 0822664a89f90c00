"""Use cases. Each takes a session, flushes, and leaves the single commit to the caller."""
