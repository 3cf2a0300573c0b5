# Databricks notebook source
# ruff: noqa: E402, F821  (a notebook: imports per cell; spark, dbutils, display are Databricks globals)

# COMMAND ----------

# MAGIC %md
# MAGIC # k-medoids with sparkmed on Databricks
# MAGIC
# MAGIC Fits k-medoids on a table, evaluates it (cost, medoid silhouette), labels the rows and saves the model.
# MAGIC Upload the wheel built by `scripts/build_wheel.sh` (`dist/sparkmed-*.whl`: numba's compiled kernels are
# MAGIC inside, so a new cluster's first fit does not compile them) to a Volume or workspace files first, and
# MAGIC set the widgets below. Works on classic and shared/serverless (Spark Connect) compute: sparkmed uses
# MAGIC only DataFrame APIs (no sparkContext, no RDDs).

# COMMAND ----------

# MAGIC %pip install /Volumes/main/default/libs/sparkmed-0.1.0-py3-none-any.whl

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.text("table", "main.default.customers")
dbutils.widgets.text("features", "x0,x1,x2,x3")
dbutils.widgets.text("id_col", "id")
dbutils.widgets.text("k", "5")
dbutils.widgets.text("model_path", "/Volumes/main/default/models/kmedoids")
dbutils.widgets.text("output_table", "main.default.customers_clusters")

table = dbutils.widgets.get("table")
features = [c.strip() for c in dbutils.widgets.get("features").split(",") if c.strip()]
id_col = dbutils.widgets.get("id_col") or None
k = int(dbutils.widgets.get("k"))
model_path = dbutils.widgets.get("model_path")
output_table = dbutils.widgets.get("output_table")

# COMMAND ----------

# MAGIC %md ## Fit

# COMMAND ----------

from sparkmed import KMedoids, KMedoidsModel

df = spark.read.table(table)
model = KMedoids(k=k, metric="euclidean", seed=0, inputCols=features, idCol=id_col, distanceCol="distance").fit(df)
s = model.summary
print(f"n={s.numRows} cost={s.trainingCost:.6g} mean={s.meanCost:.6g} medoid silhouette={s.medoidSilhouette:.4f}")
for r in s.rounds:
    print(f"round {r.round}: {r.candidates} candidates, best cost {r.best_cost:.6g}, {r.seconds:.1f} s")

# COMMAND ----------

# MAGIC %md ## Evaluate: medoids, cluster sizes, silhouette

# COMMAND ----------

import pandas as pd

display(pd.DataFrame({"medoid id": model.medoidIds(), "size": s.clusterSizes, "cost": s.clusterCosts}))
display(model.medoidRows(df))  # (the medoids' original rows)

from sparkmed import MedoidSilhouetteEvaluator

predictions = model.transform(df)
print("medoid silhouette (evaluator):", MedoidSilhouetteEvaluator().evaluate(predictions))

# COMMAND ----------

# MAGIC %md ## Save the model and the labelled rows

# COMMAND ----------

model.write().overwrite().save(model_path)  # replaces a previous model (plain model.save(path) refuses to)
cols = ([id_col] if id_col else features) + ["prediction", "distance"]
predictions.select(*cols).write.mode("overwrite").saveAsTable(output_table)

reloaded = KMedoidsModel.load(model_path)
assert (reloaded.medoids() == model.medoids()).all()
