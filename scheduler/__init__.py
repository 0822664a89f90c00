"""Frontline's domain: typed models, policy and the services (use cases) the web calls.

No Flask here: services take a SQLAlchemy session, flush, and leave the commit to the caller.
"""
