"""The distributed fit on prepared data: samples → per-sample FasterPAM → full-data scoring → refinement.

- ``params``: ``FitParams`` (the fit's parameters in the kernels' terms) and their checks.
- ``clara``: the CLARA driver: preparation, rounds of seeded samples, the choice of the best medoid set.
- ``sample_fit``: one task per sample runs a kernel algorithm on it (inside a pandas UDF).
- ``passes``: every full-data pass (scoring, swap deltas, cluster statistics, evaluation, cost), each with a
  typed result.
- ``refine``: exact full-data swap passes that improve the best medoid set.
"""

from sparkmed.spark_compat import pyspark_version

pyspark_version()  # a clear ImportError when pyspark is missing or older than 3.5
