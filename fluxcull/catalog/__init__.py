"""The SQLite catalog: schema migrations, connections and the queries every layer shares.

Writes always happen inside `transaction(conn)`; the database runs in WAL mode so a decision is
durable the moment its transaction commits. Nothing here imports Qt or torch.
"""

from fluxcull.catalog.db import connect, transaction, migrate, schema_sql

__all__ = ["connect", "transaction", "migrate", "schema_sql"]
