"""Placing the training rows on the Dask workers: one actor per worker holding its rows.

The partitions are computed where Dask puts them; every worker that holds some gets one
actor (`ShardActor`, a `natgrad.boosting.sharded.Shard`) built from its partitions in place,
so the rows never travel to the client. `ActorPool` is the `ShardPool` of those actors: a
round calls one method on every actor at once and waits for all of them, at most
``timeout`` seconds, in a fixed actor order; a lost worker ends the fit with an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import TimeoutError as FuturesTimeoutError
from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad.boosting.sharded import Shard, shard_args

__all__ = ["ActorPool", "ShardActor", "place_shards"]


class ShardActor(Shard):
    """A `Shard` made on a worker from that worker's partitions.

    Parameters
    ----------
    train : list of (X, y, w) tuples
        The worker's training partitions, in partition order.
    val : list of (X, y, w) tuples
        The worker's validation partitions (may be empty).
    """

    def __init__(self, train: list[tuple[Array, Array, Array]], val: list[Any]) -> None:
        X, y, w = _concat(train)
        if val:
            X_val, y_val, w_val = _concat(val)
            super().__init__(X, y, w, X_val, y_val, w_val)
        else:
            super().__init__(X, y, w)

    def ping(self) -> bool:
        """Whether the actor answers (a cheap round for the benchmark's latency)."""
        return True


def _concat(parts: Sequence[tuple[Array, Array, Array]]) -> tuple[Array, Array, Array]:
    if not parts:
        raise ValueError("a shard needs at least one partition")
    X = np.concatenate([np.asarray(p[0], dtype=np.float64).reshape(len(p[1]), -1) for p in parts])
    y = np.concatenate([np.asarray(p[1], dtype=np.float64) for p in parts])  # (n,) or (n, k)
    w = np.concatenate([np.asarray(p[2], dtype=np.float64).reshape(-1) for p in parts])
    return X, y, w


class ActorPool:
    """The `ShardPool` of the fit's actors (`natgrad.boosting.sharded.ShardPool`).

    A round sends the call to every actor at once and waits for all the answers together
    (one wait on the client's event loop), at most ``timeout`` seconds. A worker that dies
    ends the round with a `RuntimeError` naming it as soon as the client learns of it (its
    connection closes, or the scheduler marks its actor lost: well under a second on a
    local cluster), a worker that hangs after ``timeout`` seconds; an error raised by a
    shard itself reaches the caller as it is.

    Parameters
    ----------
    client : distributed.Client
    actors : list of (worker address, actor, the actor's future)
    timeout : float
        Seconds a round may take before the fit fails (a dead or stuck worker).
    parts : list of list of int
        Each actor's training partitions, in the order it holds them.
    """

    def __init__(
        self,
        client: Any,
        actors: list[tuple[str, Any, Any]],
        timeout: float,
        parts: list[list[int]],
    ) -> None:
        self.client = client
        self.actors = actors
        self.timeout = timeout
        self.rounds = 0
        self.parts = parts
        self.row_order: list[Any] | None = None  # set by the fit (`ShardPool`)

    def call(self, method: str, *args: Any) -> list[Any]:
        self.rounds += 1
        futures: list[Any] = []
        try:
            for k, (_, actor, _) in enumerate(self.actors):
                futures.append(getattr(actor, method)(*shard_args(args, k)))
            answers = self.client.sync(_answers, futures, callback_timeout=self.timeout)
        except (TimeoutError, FuturesTimeoutError) as exc:
            raise self._lost(method, exc, futures) from exc
        except Exception as exc:  # noqa: BLE001 - a lost actor's handle refuses calls
            if self._gone():
                raise self._lost(method, exc, futures) from exc
            raise
        failed = [
            (addr, value)
            for (addr, _, _), (ok, value) in zip(self.actors, answers, strict=True)
            if not ok
        ]
        if failed:
            first = failed[0][1]
            unreachable = [a for a, e in failed if _connection_lost(e)]
            if unreachable or self._gone():
                raise self._lost(method, first, futures, unreachable) from first
            raise first  # the shard's own error
        return [value for _, value in answers]

    def _gone(self) -> list[str]:
        """The workers whose actor the scheduler reports lost."""
        return [addr for addr, _, held in self.actors if held.status != "finished"]

    def _lost(
        self,
        method: str,
        exc: BaseException,
        futures: list[Any],
        unreachable: list[str] | None = None,
    ) -> RuntimeError:
        gone = sorted(set(self._gone()) | set(unreachable or []))
        cause = f"Cause: {type(exc).__name__}: {exc}"
        if gone or _connection_lost(exc):
            who = f" ({', '.join(gone)})" if gone else ""
            return RuntimeError(
                f"A Dask worker holding training rows{who} was lost during the {method!r} "
                f"round of the fit (its process died or its connection closed): the fit is "
                f"abandoned, as that worker's rows are gone. {cause}"
            )
        late = [addr for (addr, _, _), f in zip(self.actors, futures, strict=False) if not f.done()]
        return RuntimeError(
            f"The Dask worker(s) holding training rows ({', '.join(late) or 'unknown'}) did "
            f"not answer the {method!r} round of the fit within {self.timeout:g} s (the "
            f"fit's 'timeout' argument; a stuck worker): the fit is abandoned. {cause}"
        )


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says a worker could not be reached (a `TimeoutError` is an `OSError`
    too, but says only that the answer is late)."""
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)


async def _answers(futures: list[Any]) -> list[tuple[bool, Any]]:
    """Every actor call's ``(True, result)`` or ``(False, exception)``, in actor order."""
    out: list[tuple[bool, Any]] = []
    for future in futures:
        try:
            out.append((True, await future))
        except Exception as exc:  # noqa: BLE001 - sorted out by `ActorPool.call`
            out.append((False, exc))
    return out


def place_shards(
    client: Any,
    train: list[Any],
    val: list[Any],
    timeout: float,
) -> ActorPool:
    """Compute the partitions on the cluster and make one `ShardActor` per worker that
    holds some, on that worker.

    Parameters
    ----------
    client : distributed.Client
    train, val : list of dask.delayed
        Each partition as a delayed ``(X, y, w)`` tuple, in partition order.
    timeout : float
        Seconds for the placement and for each later round.
    """
    from distributed import wait

    futures = client.compute(train + val)
    wait(futures, timeout=timeout)
    holders = client.who_has(futures)
    by_worker: dict[str, tuple[list[Any], list[Any]]] = {}
    for k, future in enumerate(futures):
        addr = sorted(holders[future.key])[0]
        train_parts, val_parts = by_worker.setdefault(addr, ([], []))
        (train_parts if k < len(train) else val_parts).append((k, future))
    actors = []
    for addr in sorted(by_worker):
        train_parts, val_parts = by_worker[addr]
        if not train_parts:
            # Validation rows on a worker without training rows: moved to one that has some.
            continue
        actors.append((addr, [f for _, f in train_parts], [f for _, f in val_parts]))
    orphans = [
        f for addr in sorted(by_worker) if not by_worker[addr][0] for _, f in by_worker[addr][1]
    ]
    if orphans:
        actors[0][2].extend(orphans)
    made = [
        (
            addr,
            client.submit(
                ShardActor, tr, va, actor=True, workers=[addr], allow_other_workers=False,
                pure=False,
            ),
        )
        for addr, tr, va in actors
    ]  # fmt: skip
    wait([f for _, f in made], timeout=timeout)
    parts = [[k for k, _ in by_worker[addr][0]] for addr, _, _ in actors]
    return ActorPool(
        client, [(addr, f.result(timeout=timeout), f) for addr, f in made], timeout, parts
    )
