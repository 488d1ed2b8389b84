"""The database's own plan for a query: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL. The test tables are small, and PostgreSQL rightly reads a small table whole;
it is told a table scan is dear (as it is on a large firm: see bench/big_firm.py), so the
plan shows whether an index serves the query's condition at all."""

from __future__ import annotations

import peewee as pw

from models import database
from models.db import is_postgres


def plan_of(query: pw.Query) -> str:
    sql, params = query.sql()
    database.execute_sql("ANALYZE")
    if is_postgres():
        # Rows just inserted wait in a GIN index's pending list until a vacuum, which a
        # test does not wait for: the planner would count that list as read on every scan.
        database.execute_sql(
            "SELECT gin_clean_pending_list(c.oid) FROM pg_class c "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'gin' AND n.nspname = current_schema()")
        with database.atomic():
            database.execute_sql("SET LOCAL enable_seqscan = off")
            rows = database.execute_sql(f"EXPLAIN {sql}", params).fetchall()
        return "\n".join(r[0] for r in rows)
    rows = database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return "\n".join(r[-1] for r in rows)
