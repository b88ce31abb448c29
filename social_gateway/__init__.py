"""Connectors (e-mail, Facebook, Twitter/X, chat, SMS) normalised into interactions. Not built yet."""
