"""Asterisk runtime: find or bootstrap the binary, render its config from our data, run it."""
