"""Connectors (e-mail, Facebook, X, chat, SMS) normalised into interactions. Not built yet."""
