"""Login password hashing with Argon2id (argon2-cffi's RFC 9106 defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the username does not exist, so that a login for an unknown user
# costs the same time as a wrong password and response times do not reveal valid names.
_DUMMY_HASH = _hasher.hash("phones-dummy-password")


def hash_password(password: str) -> str:
    """Hash `password` for storage (salted; the parameters are encoded in the result)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches `password_hash`; False on mismatch or a corrupt hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    """Spend the time of one verification, for logins whose username is unknown."""
    verify_password(_DUMMY_HASH, password)


def needs_rehash(password_hash: str) -> bool:
    """True if the hash uses outdated parameters and should be replaced after a good login."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
