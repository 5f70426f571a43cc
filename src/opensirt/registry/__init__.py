"""The pathway record: every patient's SIRT pathway over time, in SQLite or PostgreSQL.

:mod:`~opensirt.registry.models` holds the tables, :mod:`~opensirt.registry.vocabulary` the
coded values, :mod:`~opensirt.registry.database` opens the database (``--db``, ``OPENSIRT_DB``
or the user's data folder) and runs the Alembic migrations.
"""

#: The environment variable naming who acts in the audit log (``opensirt --user NAME`` sets
#: it); :func:`opensirt.registry.database.default_actor` reads it. Defined here, light to
#: import, for the command line's root option.
ACTOR_ENV = "OPENSIRT_USER"
