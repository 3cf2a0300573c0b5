"""The production job behind ``sparkmed fit | assign | select-k`` and ``jobs/kmedoids_job.py``.

Modules: ``config`` (TOML schema, ``--set`` overrides, validation), ``io`` (pre-Spark path checks, reading
the input, resolving feature columns), ``outputs`` (staging directory and atomic commit, Parquet/JSON
writers), ``report`` (matplotlib plots + report.html), ``progress`` (console progress from the
``sparkmed.progress`` logger: a rich bar on a terminal, plain lines otherwise), ``summary`` (the end table),
``mlflow_log`` (optional MLflow logging), ``redact`` (the one rule that keeps
secrets out of everything the job writes or logs) and ``run`` (the three commands). ``outputs`` also holds the
output's lock, its ``_SPARKMED_OUTPUT`` marker and the clean-up of what killed runs left behind.
Nothing here is imported by the library itself: pyspark.ml users never pay for it.
"""

from sparkmed.spark_compat import pyspark_version

pyspark_version()  # a clear ImportError when pyspark is missing or older than 3.5
