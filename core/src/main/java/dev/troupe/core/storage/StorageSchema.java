package dev.troupe.core.storage;

import java.util.List;

/**
 * A named, versioned set of tables that a {@link Storage} creates if they are missing: the service
 * provider interface through which Troupe's modules (and applications) contribute their tables.
 *
 * <p>Contribute a schema in one of two ways:
 *
 * <ul>
 *   <li>list the implementing class in {@code
 *       META-INF/services/dev.troupe.core.storage.StorageSchema} (it needs a public no-argument
 *       constructor): every {@link Storage} applies it when it starts, if {@code
 *       troupe.storage.create-tables = on};
 *   <li>or call {@link Storage#ensureSchema(StorageSchema)} before first use.
 * </ul>
 *
 * <pre>{@code
 * public final class CronSchema implements StorageSchema {
 *   public String name() { return "troupe-cron"; }
 *   public int version() { return 1; }
 *   public List<String> statements(Dialect dialect) {
 *     String payload = dialect == Dialect.POSTGRESQL ? "JSONB" : "CLOB";
 *     return List.of(
 *         "CREATE TABLE IF NOT EXISTS troupe_cron_run (job VARCHAR(200) NOT NULL,"
 *             + " scheduled_at TIMESTAMP NOT NULL, detail " + payload + ","
 *             + " PRIMARY KEY (job, scheduled_at))",
 *         "CREATE INDEX IF NOT EXISTS troupe_cron_run_at ON troupe_cron_run (scheduled_at)");
 *   }
 * }
 * }</pre>
 *
 * <p>The table {@code troupe_schema} records the version of every applied schema. A schema's
 * statements run when that table has no row for its {@link #name()} or an older version, so a
 * schema is applied once per database and version, not at every start. They are not run when the
 * recorded version is newer (a newer node already upgraded the database).
 *
 * <p>Every statement must be idempotent ({@code CREATE TABLE IF NOT EXISTS}, {@code CREATE INDEX IF
 * NOT EXISTS}, {@code ALTER TABLE ... ADD COLUMN IF NOT EXISTS}), and the list must bring a
 * database of any earlier version (or none) to this version: a crash between the statements and the
 * version record, or another database's history, may run them again. On PostgreSQL all statements
 * of one application run in one transaction under an advisory lock, so nodes that start together do
 * not race; on other databases they run one by one, serialized within the JVM.
 *
 * <p>Implementations must be immutable and thread-safe.
 *
 * @since 0.1.0
 */
public interface StorageSchema {

  /**
   * The schema's unique name, at most 200 characters, for example {@code "troupe-cron"}; the key of
   * its row in {@code troupe_schema}.
   */
  String name();

  /**
   * The schema's version, at least 1; raise it whenever {@link #statements(Dialect)} changes so
   * that existing databases are upgraded.
   */
  int version();

  /**
   * The idempotent statements that create or upgrade this schema's tables on a database of {@code
   * dialect}, in order; never {@code null}.
   */
  List<String> statements(Dialect dialect);
}
