package dev.troupe.sharding.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * INTERNAL API. The sharding module's table, {@code troupe_fleet_state}: the values of every {@link
 * dev.troupe.sharding.Repository}, one row per repository and key; registered in the module's
 * {@code META-INF/services}.
 *
 * <p>Public with a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class FleetSchema implements StorageSchema {
  /*
   * Design notes.
   *
   * - The value column is state_value: VALUE is a keyword in H2 2.x.
   * - JSON goes into TEXT on PostgreSQL (not JSONB: the column is opaque to SQL, and TEXT keeps the
   *   document byte for byte) and into CLOB elsewhere.
   * - On PostgreSQL the key uses the "C" collation (always present), so the primary-key index
   *   orders keys by code point as H2 does and keys()/keysAfter() page in the same order on both,
   *   whatever the database's default collation; the cursor of keysAfter stays index-backed.
   */

  /** The schema's name in {@code troupe_schema}. */
  public static final String NAME = "troupe-sharding";

  /** The table of repository values. */
  public static final String TABLE = "troupe_fleet_state";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    boolean postgres = dialect == Dialect.POSTGRESQL;
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + TABLE
            + " ("
            + "repo VARCHAR(200) NOT NULL, "
            + "state_key VARCHAR(500)"
            + (postgres ? " COLLATE \"C\"" : "")
            + " NOT NULL, "
            + "version BIGINT NOT NULL, "
            + "state_value "
            + (postgres ? "TEXT" : "CLOB")
            + ", "
            + "updated_at TIMESTAMP, "
            + "PRIMARY KEY (repo, state_key))");
  }
}
