"""The pyspark.ml face: Params, Estimator/Model, evaluation, k selection and persistence.

- ``plan``: the one public planning step (Params + DataFrame → feature spec, encoding, fit parameters) that
  the estimator, ``select_k`` and the job all call.
- ``estimator``: ``KMedoids`` / ``KMedoidsModel`` / ``KMedoidsSummary``.
- ``evaluation``: ``MedoidSilhouetteEvaluator`` and ``silhouette``.
- ``select_k``: fits for several k sharing one preparation and one set of samples.
- ``persistence`` / ``model_fields``: saving and loading; every loaded field is checked, nothing imported.
"""

from sparkmed.spark_compat import pyspark_version

pyspark_version()  # a clear ImportError when pyspark is missing or older than 3.5
