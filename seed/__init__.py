"""A realistic demo network around Lyon, deterministic by seed."""
