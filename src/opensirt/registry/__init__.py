"""The pathway record: every patient's SIRT pathway over time, in SQLite or PostgreSQL.

:mod:`~opensirt.registry.models` holds the tables, :mod:`~opensirt.registry.vocabulary` the
coded values, :mod:`~opensirt.registry.database` opens the database (``--db``, ``OPENSIRT_DB``
or the user's data folder) and runs the Alembic migrations.
"""
