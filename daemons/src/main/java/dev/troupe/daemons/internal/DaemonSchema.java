package dev.troupe.daemons.internal;

import dev.troupe.core.Names;
import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.StorageSchema;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API. The tables of the daemons module, registered in {@code META-INF/services}: the
 * daemons started with spawnRegister (so that a new leader finds them again) and the OnceLog, both
 * keyed by {@code troupe.namespace} first. Public with a public constructor because {@link
 * java.util.ServiceLoader} instantiates it.
 */
public final class DaemonSchema implements StorageSchema {
  /**
   * The width of a launcher-name column. {@code VARCHAR(n)} counts characters, and a {@linkplain
   * Names name} of at most {@value Names#MAX_UTF8_BYTES} UTF-8 bytes has at most as many. Daemon
   * names go into {@code VARCHAR(500)} columns.
   */
  private static final int LAUNCHER_LENGTH = Names.MAX_UTF8_BYTES;

  @Override
  public String name() {
    return "troupe-daemons";
  }

  /** Version 5: launcher names up to {@link Names#MAX_UTF8_BYTES} (were 200 characters). */
  @Override
  public int version() {
    return 5;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "CLOB";
    List<String> statements = new ArrayList<>();
    statements.add(
        "CREATE TABLE IF NOT EXISTS troupe_daemon ("
            + "namespace VARCHAR(63) NOT NULL, "
            + "name VARCHAR(500) NOT NULL, "
            + "launcher VARCHAR("
            + LAUNCHER_LENGTH
            + ") NOT NULL, "
            + "args "
            + text
            + " NOT NULL, "
            + "created_at TIMESTAMP NOT NULL, "
            + "PRIMARY KEY (namespace, name))");
    statements.add(
        "CREATE TABLE IF NOT EXISTS troupe_once_log ("
            + "namespace VARCHAR(63) NOT NULL, "
            + "item_key VARCHAR(500) NOT NULL, "
            + "state VARCHAR(20) NOT NULL, "
            + "node VARCHAR(300) NOT NULL, "
            + "token BIGINT NOT NULL, "
            + "started_at TIMESTAMP NOT NULL, "
            + "finished_at TIMESTAMP, "
            + "detail VARCHAR(1000), "
            + "PRIMARY KEY (namespace, item_key))");
    // Version 3: the daemon leases (see DaemonStore).
    statements.add(
        "CREATE TABLE IF NOT EXISTS troupe_daemon_lease ("
            + "namespace VARCHAR(63) NOT NULL, "
            + "name VARCHAR(500) NOT NULL, "
            + "owner VARCHAR(300), "
            + "epoch BIGINT NOT NULL, "
            + "expires_at TIMESTAMP, "
            + "PRIMARY KEY (namespace, name))");
    statements.add(
        "CREATE INDEX IF NOT EXISTS troupe_daemon_lease_owner"
            + " ON troupe_daemon_lease (namespace, owner)");
    // Version 4: a lease row names the launcher and arguments of its instance, so that a node can
    // take over the daemons of an unreachable node while the leader itself is unreachable.
    statements.add(
        "ALTER TABLE troupe_daemon_lease ADD COLUMN IF NOT EXISTS launcher VARCHAR("
            + LAUNCHER_LENGTH
            + ")");
    statements.add("ALTER TABLE troupe_daemon_lease ADD COLUMN IF NOT EXISTS args " + text);
    // Version 1 had no namespace: its rows belong to "default".
    statements.addAll(Namespaces.keyStatements(dialect, "troupe_daemon", "name"));
    statements.addAll(Namespaces.keyStatements(dialect, "troupe_once_log", "item_key"));
    // Tables before version 5: the launcher columns from VARCHAR(200) to VARCHAR(256); widening is
    // idempotent, and on PostgreSQL it needs no table rewrite.
    for (String table : List.of("troupe_daemon", "troupe_daemon_lease")) {
      statements.add(
          "ALTER TABLE "
              + table
              + " ALTER COLUMN launcher SET DATA TYPE VARCHAR("
              + LAUNCHER_LENGTH
              + ")");
    }
    return statements;
  }
}
