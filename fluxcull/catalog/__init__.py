"""The SQLite catalog: schema migrations, connections, and the API every layer calls.

`Catalog` (fluxcull.catalog.api) is the named queries and commands over one connection, handing
out typed records (fluxcull.catalog.records); the keeper-score rules and bands are declared in
fluxcull.catalog.scores, the one writer of keeper_score is fluxcull.catalog.score_writes, the
settings are declared in fluxcull.catalog.settings. Writes always happen inside
`transaction(conn)`; the database runs in WAL mode so a decision is durable the moment its
transaction commits. Nothing here imports Qt or torch.
"""

from fluxcull.catalog.db import connect, transaction, migrate, schema_sql
from fluxcull.catalog.api import Catalog

__all__ = ["Catalog", "connect", "transaction", "migrate", "schema_sql"]
