"""Login lockout as pure functions: N failures within a window lock the account for a while.

The state lives in the user row (failed_logins, failed_logins_since, locked_until); these
functions only compute the next state, so they are trivial to test and to reason about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class HasLoginCounters(Protocol):
    """Anything carrying the lockout columns, e.g. server.db.models.User."""

    failed_logins: int
    failed_logins_since: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures within which window lock the account, and for how long."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = LockoutPolicy()


@dataclass(frozen=True)
class LoginState:
    """The lockout counters of one account."""

    failed_logins: int = 0
    failed_logins_since: datetime | None = None
    locked_until: datetime | None = None

    @classmethod
    def of(cls, row: HasLoginCounters) -> LoginState:
        """Read the counters from a user row."""
        return cls(row.failed_logins, row.failed_logins_since, row.locked_until)

    def apply_to(self, row: HasLoginCounters) -> None:
        """Write the counters back to a user row."""
        row.failed_logins = self.failed_logins
        row.failed_logins_since = self.failed_logins_since
        row.locked_until = self.locked_until


def is_locked(state: LoginState, now: datetime) -> bool:
    """True while the account is locked: refuse the login without checking the password."""
    return state.locked_until is not None and now < state.locked_until


def register_failure(
    state: LoginState, now: datetime, policy: LockoutPolicy = DEFAULT_POLICY
) -> LoginState:
    """The state after a wrong password at `now`.

    Failures while locked change nothing, so hammering a locked account cannot extend
    the lock forever. Locking resets the count: after the lock expires the user gets a
    full set of attempts again.
    """
    if is_locked(state, now):
        return state
    since = state.failed_logins_since
    if since is None or now - since > policy.window:
        count, since = 1, now
    else:
        count = state.failed_logins + 1
    if count >= policy.max_failures:
        return LoginState(0, None, now + policy.lock_for)
    return LoginState(count, since, None)


def register_success(state: LoginState) -> LoginState:
    """The state after a correct password: all counters cleared."""
    return LoginState()
