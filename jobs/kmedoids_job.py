"""spark-submit entry point for the sparkmed job: the same commands and options as the ``sparkmed`` CLI.

    PYSPARK_DRIVER_PYTHON=.venv/bin/python PYSPARK_PYTHON=./environment/bin/python \\
      spark-submit --master spark://127.0.0.1:7077 --properties-file conf/spark-defaults.conf \\
        --archives build/pack/env.tar.gz#environment \\
        jobs/kmedoids_job.py fit --config conf/example.toml --input data/x.parquet --output out/run1

Thin on purpose: everything lives in ``sparkmed.job`` (tested through the CLI). ``submitted=True`` makes the job
use ``SparkSession.builder.getOrCreate()``, so master and resources come from spark-submit, never from code.
"""

import sys

from sparkmed.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], submitted=True))
