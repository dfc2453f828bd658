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
  OTHER;

  /**
   * SQL for the database's now ({@code LOCALTIMESTAMP}) plus a number of milliseconds given as the
   * one {@code ?} parameter: expiries judged by the database's clock.
   */
  public String nowPlusMillis() {
    return this == POSTGRESQL
        ? "LOCALTIMESTAMP + (? * INTERVAL '1 millisecond')"
        : "DATEADD(MILLISECOND, ?, LOCALTIMESTAMP)";
  }

  /**
   * SQL for the milliseconds from the database's now until the timestamp {@code column} (negative
   * once it has passed; null if the column is null).
   */
  public String millisUntil(String column) {
    return this == POSTGRESQL
        ? "CAST(EXTRACT(EPOCH FROM (" + column + " - LOCALTIMESTAMP)) * 1000 AS BIGINT)"
        : "DATEDIFF(MILLISECOND, LOCALTIMESTAMP, " + column + ")";
  }
}
