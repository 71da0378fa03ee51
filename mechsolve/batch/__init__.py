"""``mechsolve batch``: recorded problems (JSON lines or Parquet, one request of any declared
RPC per record) solved offline into results, resumably, on a local process pool, a Ray
cluster or a mechsolve server (:mod:`.job`)."""

from .job import BatchJob, Summary, run, same_answer, verify
from .parts import iter_rows

__all__ = ["BatchJob", "Summary", "iter_rows", "run", "same_answer", "verify"]
