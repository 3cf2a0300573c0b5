"""``--output-table PREFIX``: the medoids and the assignments as catalog tables ``<PREFIX>_medoids`` and
``<PREFIX>_assignments`` (``DataFrame.write.saveAsTable``), replaced only when the whole run succeeded.

How: while the run works, each table is written under a staging name ``<name>__sparkmed_tmp_<hex>`` by copying
the Parquet the run already staged in its output directory (no second labelling pass). Only after the output
directory is committed are the tables swapped in: for ``parquet``/``orc`` the old table is dropped and the
staged one renamed (``ALTER TABLE ... RENAME TO``), for ``delta`` the staged rows overwrite the table in one
transaction (a new table version; time travel keeps the old one). A failed run drops its staging tables and
leaves the old tables as they were.

Like ``--overwrite`` on directories, an existing table is replaced only with ``--overwrite`` and only when
sparkmed wrote it (table property ``sparkmed_output``). Table names are checked against a strict identifier
pattern before any work: they are spliced into SQL statements, so nothing else may reach them.

The format comes from ``output.table_format`` (parquet here; delta where the cluster has it: untested here,
Delta's jars cannot be fetched offline). The catalog is the session's: on a local run without Hive support
(``spark.sql.catalogImplementation=in-memory``) the tables would vanish with the session, so that is refused.
"""

from __future__ import annotations

import logging
import re
import uuid

from sparkmed.errors import InputError

log = logging.getLogger("sparkmed")

TABLE_FORMATS = ("parquet", "orc", "delta")
PROPERTY = "sparkmed_output"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


def check_prefix(prefix: str) -> None:
    """``output.table`` must be ``[catalog.][schema.]name`` of letters, digits and underscores."""
    if not _NAME.fullmatch(prefix):
        raise InputError(f"config key 'output.table': {prefix!r} is not a table name prefix ([catalog.][schema.]"
                         "name, letters, digits and _ only)")


class TableStaging:
    """Staging tables of one run, swapped in by ``commit`` or dropped by ``abort``."""

    def __init__(self, spark, prefix: str, fmt: str, overwrite: bool, kinds: list[str]):
        check_prefix(prefix)
        in_memory = (spark.conf.get("spark.sql.catalogImplementation", "in-memory") == "in-memory"
                     and spark.conf.get("spark.sql.defaultCatalog", "spark_catalog") == "spark_catalog"
                     and prefix.count(".") < 2)  # catalog.schema.name names a catalog of its own
        if in_memory:
            raise InputError("config key 'output.table': this session's catalog is in memory (no Hive support), so "
                             "the tables would vanish when the job ends; run with a persistent catalog (e.g. "
                             "--conf spark.sql.catalogImplementation=hive, or on a cluster with a metastore)")
        self.spark, self.fmt, self.overwrite = spark, fmt, overwrite
        self.names = {kind: f"{prefix}_{kind}" for kind in kinds}
        tag = uuid.uuid4().hex[:12]
        self.staged = {kind: f"{name}__sparkmed_tmp_{tag}" for kind, name in self.names.items()}
        for name in self.names.values():
            self._check_replaceable(name)

    def _exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def _check_replaceable(self, name: str) -> None:
        if not self._exists(name):
            return
        if not self.overwrite:
            raise InputError(f"table {name!r} already exists; pass --overwrite (output.overwrite=true) to replace it "
                             "(config key 'output.table')")
        props = {r[0]: r[1] for r in self.spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
        if props.get(PROPERTY) != "1":
            raise InputError(f"table {name!r} exists and was not written by sparkmed (no table property "
                             f"{PROPERTY!r}): --overwrite only replaces sparkmed's tables (config key 'output.table')")

    def stage(self, kind: str, frame, partition_by: str | None = None) -> None:
        """Write ``frame`` (a read of the staged output files) as the staging table of ``kind``."""
        writer = frame.write.format(self.fmt).mode("error")
        if partition_by:
            writer = writer.partitionBy(partition_by)
        writer.saveAsTable(self.staged[kind])

    def commit(self) -> dict[str, str]:
        """Swap every staged table in (see the module docstring); returns kind → table name for metrics.json."""
        for kind, name in self.names.items():
            self._check_replaceable(name)  # again: another run may have written it meanwhile
            staged = self.staged[kind]
            if self.fmt == "delta" and self._exists(name):
                self.spark.table(staged).write.format("delta").mode("overwrite").option(
                    "overwriteSchema", "true").saveAsTable(name)
                self.spark.sql(f"DROP TABLE {staged}")
            else:
                if self._exists(name):
                    self.spark.sql(f"DROP TABLE {name}")
                self.spark.sql(f"ALTER TABLE {staged} RENAME TO {name}")
            self.spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('{PROPERTY}' = '1')")
            log.info("table %s written (%s)", name, self.fmt)
        return dict(self.names)

    def abort(self) -> None:
        """Drop the staging tables (never raises: the session may be gone)."""
        for staged in self.staged.values():
            try:
                self.spark.sql(f"DROP TABLE IF EXISTS {staged}")
            except Exception as exc:  # noqa: BLE001
                log.warning("could not drop staging table %s (%s): drop it by hand", staged, exc)
