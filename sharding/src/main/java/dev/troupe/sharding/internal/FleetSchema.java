package dev.troupe.sharding.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.StorageSchema;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API. The sharding module's table, {@code troupe_fleet_state}: the values of every {@link
 * dev.troupe.sharding.Repository}, one row per namespace, repository and key; registered in the
 * module's {@code META-INF/services}.
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
   * - The primary key is (namespace, repo, state_key): every statement of JdbcRepository names the
   *   namespace and the repository, so two clusters (troupe.namespace) on one database never see
   *   each other's rows, and a repository's keys are one contiguous range of the key's index.
   * - On PostgreSQL the key uses the "C" collation (always present), so the primary-key index
   *   orders keys by code point as H2 does and keys()/keysAfter() page in the same order on both,
   *   whatever the database's default collation; with namespace and repo fixed by equality, the
   *   ORDER BY state_key and the cursor of keysAfter stay index-backed.
   * - Version 1 had no namespace and the key (repo, state_key). Namespaces.keyStatements, run after
   *   the CREATE, upgrades such a table in place: it adds the column, with the rows already there
   *   in namespace 'default', and rebuilds the primary key as (namespace, repo, state_key). On a
   *   table created by this version it rebuilds the same key again, harmlessly, so the list
   *   brings a database of any version (or none) to version 2 and may run twice.
   * - Version 3 adds the single-writer fence of fleets (FenceStore): troupe_fleet_node, one row
   *   per node generation with the expiry of its fence lease by the database's clock, and
   *   troupe_fleet_shard, one row per shard lease naming its owner generation and epoch. Both are
   *   CREATE TABLE IF NOT EXISTS, so the list still may run twice.
   */

  /** The schema's name in {@code troupe_schema}. */
  public static final String NAME = "troupe-sharding";

  /** The table of repository values. */
  public static final String TABLE = "troupe_fleet_state";

  /** The fence leases of node generations. */
  public static final String NODE_TABLE = "troupe_fleet_node";

  /** The owners of shard leases. */
  public static final String SHARD_TABLE = "troupe_fleet_shard";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int version() {
    return 3;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    boolean postgres = dialect == Dialect.POSTGRESQL;
    List<String> statements = new ArrayList<>();
    statements.add(
        "CREATE TABLE IF NOT EXISTS "
            + TABLE
            + " ("
            + "namespace VARCHAR("
            + Namespaces.MAX_LENGTH
            + ") NOT NULL, "
            + "repo VARCHAR(200) NOT NULL, "
            + "state_key VARCHAR(500)"
            + (postgres ? " COLLATE \"C\"" : "")
            + " NOT NULL, "
            + "version BIGINT NOT NULL, "
            + "state_value "
            + (postgres ? "TEXT" : "CLOB")
            + ", "
            + "updated_at TIMESTAMP, "
            + "PRIMARY KEY (namespace, repo, state_key))");
    statements.addAll(Namespaces.keyStatements(dialect, TABLE, "repo", "state_key"));
    String namespace = "namespace VARCHAR(" + Namespaces.MAX_LENGTH + ") NOT NULL, ";
    statements.add(
        "CREATE TABLE IF NOT EXISTS "
            + NODE_TABLE
            + " ("
            + namespace
            + "owner VARCHAR(400) NOT NULL, "
            + "node VARCHAR(400) NOT NULL, "
            + "expires_at TIMESTAMP NOT NULL, "
            + "revoked BOOLEAN NOT NULL, "
            + "PRIMARY KEY (namespace, owner))");
    statements.add(
        "CREATE TABLE IF NOT EXISTS "
            + SHARD_TABLE
            + " ("
            + namespace
            + "name VARCHAR(500) NOT NULL, "
            + "owner VARCHAR(400) NOT NULL, "
            + "epoch BIGINT NOT NULL, "
            + "released BOOLEAN NOT NULL, "
            + "PRIMARY KEY (namespace, name))");
    return List.copyOf(statements);
  }
}
