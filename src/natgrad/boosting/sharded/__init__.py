"""Natural-gradient boosting over rows held in shards: the engine behind `natgrad.dask`.

The rows of a fit are split into shards (`Shard`), each of which does the per-row work of a
stage with the single-machine engine's compiled kernels; a driver (`ShardedTrainer`) makes
every decision once, on the shards' summed histograms and sums, so that a sharded fit grows
the same trees as `NGBoostRegressor` on the concatenated rows (to floating-point summation
order). A `ShardPool` carries the calls: `LocalPool` runs them in this process, and
`natgrad.dask` on Dask actors.
"""

from natgrad.boosting.sharded._driver import (
    BINNING_SUBSAMPLE,
    LocalPool,
    PerShard,
    ShardedTrainer,
    ShardPool,
    binning_rows,
    shard_args,
)
from natgrad.boosting.sharded._shard import Shard, ShardSpec, Split

__all__ = [
    "BINNING_SUBSAMPLE",
    "LocalPool",
    "PerShard",
    "Shard",
    "ShardPool",
    "ShardSpec",
    "ShardedTrainer",
    "Split",
    "binning_rows",
    "shard_args",
]
