"""Random secrets for machine credentials (SIP accounts), never for human passwords."""

from __future__ import annotations

import secrets

# 24 random bytes → 32 URL-safe characters (192 bits): far beyond online guessing, and
# made only of characters that need no quoting in pjsip.conf or SIP clients.
SIP_SECRET_BYTES = 24


def generate_sip_secret() -> str:
    """A fresh random SIP password."""
    return secrets.token_urlsafe(SIP_SECRET_BYTES)
