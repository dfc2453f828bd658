package dev.troupe.core.storage;

/**
 * The SQL dialect of a {@link Storage}'s database, detected from the JDBC driver's metadata when
 * the storage starts.
 *
 * <p>{@link StorageSchema}s use it to choose their statements: PostgreSQL and H2 differ, for
 * example, in column types ({@code JSONB}, {@code BYTEA}) and upsert syntax.
 *
 * @since 0.1.0
 */
public enum Dialect {
  /** The H2 database engine: embedded file or in-memory databases, also in compatibility modes. */
  H2,

  /** PostgreSQL; schema changes run in one transaction under an advisory lock. */
  POSTGRESQL,

  /** Any other database: schemas should stay with portable SQL. */
  OTHER
}
