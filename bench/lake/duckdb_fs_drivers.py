"""The same fs_drivers.sql, run by DuckDB over silver f1/results read with Python `deltalake`,
then written back as a Delta table partitioned by dtRef: what a user without Spark would do.

    python duckdb_fs_drivers.py LAKE_ROOT path/to/fs_drivers.sql
"""

import os
import sys
import tempfile
import time

import duckdb
from deltalake import DeltaTable, write_deltalake

lake, sql_path = sys.argv[1], sys.argv[2]
sql = open(sql_path).read()

t0 = time.perf_counter()
silver_results = DeltaTable(os.path.join(lake, "silver", "f1", "results")).to_pyarrow_table()
con = duckdb.connect()
con.register("silver_results", silver_results)
con.execute('CREATE TABLE fs_targets AS SELECT DISTINCT "dtSession" AS "dtRef" FROM silver_results '
            "WHERE \"descSession\" = 'Race'")
result = con.execute(sql).to_arrow_table()
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    write_deltalake(out, result, partition_by=["dtRef"], mode="overwrite")
    t2 = time.perf_counter()
mine = DeltaTable(os.path.join(lake, "silver", "f1", "fs_drivers")).to_pyarrow_dataset().count_rows()
print(f"duckdb {duckdb.__version__}: {result.num_rows} rows (pitwall: {mine}); "
      f"query {t1 - t0:.2f} s, Delta write {t2 - t1:.2f} s")
print(f"duckdb fs_drivers seconds: {t2 - t0:.3f}")
