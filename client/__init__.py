"""Supervisor and admin console (#phones Client). Not built yet."""
