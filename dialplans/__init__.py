"""Asterisk dialplan templates (data, not Python): thin entry contexts that hand calls to Stasis."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
