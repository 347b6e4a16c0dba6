"""A run's accounts: what each team run has spent and has in flight, checked per model call.

A worker's envelope is carved at dispatch, but the workers of a wave run at once: had
each only watched its own share, thirty of them would each pass it by one call. So every
model call first reserves from every account it spends against — its team's run and each
ancestor team's run — and is refused when one of them is spent, counting the calls still
in flight. A team's total then passes its cap by at most the calls already in flight
(at most ``max_concurrency`` of its workers, each one call), and its ``max_model_calls``
is never passed: a call is reserved before it is made, and a reserved call counts.

An account lives in the run's ``TeamContext`` (``purse``): in memory, for the run. It is
opened with the spend its team's state knew (the ledger, or the snapshot a worker carries
in its envelope), and raised to it again whenever the team's state is read, so a resumed
run starts from what was saved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from orchestra.state.budget import AccountLimits

_KEPT = 4096
"""Accounts a purse keeps. Runs without ``context=`` share one purse (``NO_CONTEXT``);
the oldest accounts beyond this are dropped, so nothing grows with the runs of a process."""


@dataclass
class Account:
    """One team run's spend against its caps (``None``: unbounded)."""

    key: str
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_calls: int | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    held_calls: int = 0
    """Calls reserved and not yet answered (in flight)."""
    held_tokens: int = 0
    held_cost_usd: float = 0.0

    def raise_to(self, limits: AccountLimits) -> None:
        """Take the caps of ``limits``, and its spend where it knows of more."""
        self.max_tokens = limits.get("max_tokens", self.max_tokens)
        self.max_cost_usd = limits.get("max_cost_usd", self.max_cost_usd)
        self.max_calls = limits.get("max_calls", self.max_calls)
        self.tokens = max(self.tokens, limits.get("tokens", 0))
        self.cost_usd = max(self.cost_usd, limits.get("cost_usd", 0.0))
        self.calls = max(self.calls, limits.get("calls", 0))

    def refusal(self, keep: int) -> tuple[str, str] | None:
        """Which limit refuses one more call here, and its numbers; ``None``: it may start.

        ``keep`` calls are left for later roles.
        """
        if self.max_calls is not None and self.calls + self.held_calls + keep >= self.max_calls:
            return "max_model_calls", f"{self.calls + self.held_calls} of {self.max_calls}"
        if self.max_tokens is not None and self.tokens + self.held_tokens >= self.max_tokens:
            return "max_tokens", f"{self.tokens + self.held_tokens} of {self.max_tokens}"
        if self.max_cost_usd is not None:
            cost = self.cost_usd + self.held_cost_usd
            if cost >= self.max_cost_usd:
                return "max_cost_usd", f"{cost:.4f} of {self.max_cost_usd:g}"
        return None

    def estimate(self) -> tuple[int, float]:
        """What a call is expected to spend: the mean of this account's calls so far."""
        if not self.calls:
            return 0, 0.0
        return self.tokens // self.calls, self.cost_usd / self.calls


@dataclass(frozen=True)
class Refused:
    """A call refused: the account that is spent and why."""

    key: str
    limit: str
    """``max_model_calls`` (a cap), ``max_tokens`` or ``max_cost_usd`` (budgets)."""
    numbers: str
    """Spent and in flight, of the limit: ``10 of 10``."""


@dataclass
class Hold:
    """One reserved call: released with its real spend once it is answered or failed."""

    keys: tuple[str, ...]
    tokens: int
    cost_usd: float
    settled: bool = False


@dataclass
class Purse:
    """The accounts of a run (thread-safe: workers reserve from many threads at once)."""

    _accounts: OrderedDict[str, Account] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, limits: AccountLimits) -> Account:
        """The account ``limits`` names, opened or raised to what ``limits`` knows."""
        with self._lock:
            return self._open(limits)

    def _open(self, limits: AccountLimits) -> Account:
        key = limits["key"]
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = Account(key)
            while len(self._accounts) > _KEPT:
                self._accounts.popitem(last=False)
        else:
            self._accounts.move_to_end(key)
        account.raise_to(limits)
        return account

    def reserve(self, chain: list[AccountLimits], keep: int = 0) -> Hold | Refused:
        """Reserve one call from every account of ``chain``, or say which refuses it.

        ``keep`` calls are left in each account for the roles that come later (a worker
        leaves one for its team's synthesis).
        """
        with self._lock:
            accounts = [self._open(limits) for limits in chain]
            for account in accounts:
                if refused := account.refusal(keep):
                    return Refused(account.key, *refused)
            tokens, cost = max((a.estimate() for a in accounts), default=(0, 0.0))
            for account in accounts:
                account.held_calls += 1
                account.held_tokens += tokens
                account.held_cost_usd += cost
            return Hold(tuple(a.key for a in accounts), tokens, cost)

    def settle(self, hold: Hold, *, calls: int, tokens: int, cost_usd: float) -> None:
        """Release ``hold`` and count what the call really spent (nothing if it failed)."""
        with self._lock:
            if hold.settled:
                return
            hold.settled = True
            for key in hold.keys:
                account = self._accounts.get(key)
                if account is None:
                    continue  # dropped as one of the oldest: nothing left to count
                account.held_calls -= 1
                account.held_tokens -= hold.tokens
                account.held_cost_usd -= hold.cost_usd
                account.calls += calls
                account.tokens += tokens
                account.cost_usd += cost_usd

    def close(self, key: str) -> None:
        """Forget the account ``key`` and those of its child teams (its run has ended)."""
        with self._lock:
            for name in [k for k in self._accounts if k == key or k.startswith(key + "/")]:
                del self._accounts[name]

    def account(self, key: str) -> Account | None:
        """The account ``key``, if it is open (for tests and the ledger)."""
        with self._lock:
            return self._accounts.get(key)
