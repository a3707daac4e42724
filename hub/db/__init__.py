"""Storage: SQLAlchemy Core tables, engine setup for SQLite and PostgreSQL, Alembic migrations."""
