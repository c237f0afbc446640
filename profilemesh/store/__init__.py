"""The store: connecting (target, connect), the version handshake (ledger, state, handshake), the
migration lock (locks/), the storage tables (tables, writes). Every command builds on this layer;
nothing imports a feature package to open a connection.

This module itself imports nothing, so the CLI can read the defaults below without loading SQLAlchemy.
"""

DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a migration, retention, writer or view build waits for the lock
DEFAULT_STALE_AFTER = 300.0  # PostgreSQL: a holder idle this long looks stale to `migrate unlock`
