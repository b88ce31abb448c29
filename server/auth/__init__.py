"""Authentication: password hashing, API tokens, login lockout and SIP secret generation."""

from server.auth.lockout import (
    LockoutPolicy,
    LoginState,
    is_locked,
    register_failure,
    register_success,
)
from server.auth.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from server.auth.secrets import generate_sip_secret
from server.auth.tokens import (
    DEFAULT_TOKEN_TTL,
    hash_token,
    issue_token,
    resolve_token,
    revoke_token,
    revoke_user_tokens,
)

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "LockoutPolicy",
    "LoginState",
    "generate_sip_secret",
    "hash_password",
    "hash_token",
    "is_locked",
    "issue_token",
    "needs_rehash",
    "register_failure",
    "register_success",
    "resolve_token",
    "revoke_token",
    "revoke_user_tokens",
    "verify_dummy",
    "verify_password",
]
