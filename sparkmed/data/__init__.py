"""From a user's DataFrame to packed, validated rows: the first stage of a fit.

- ``columns``: Spark type tests shared by every module that reads a user column.
- ``encoding``: how the feature columns become the rows a kernel metric reads (dense, ELL sparse, padded
  sets, Gower rows), planned from the schema and a bounded sample.
- ``features``: the feature spec (which columns, id, weight), the prepared columns (key, x, w, id) and the
  naming of bad rows.
- ``unique_keys``: 64-bit row keys and exact duplicate-key detection.
- ``packing``: the one input pass that validates, counts, sketches and packs the rows into blocks.
- ``blocks``: the block layout and the executors' resident block store the passes read.
- ``sampling``: seeded, partitioning-independent sample membership.
- ``pass_log``: Spark job descriptions and the record of full-data passes (what the structure tests count).
"""

from sparkmed.spark_compat import pyspark_version

pyspark_version()  # a clear ImportError when pyspark is missing or older than 3.5
