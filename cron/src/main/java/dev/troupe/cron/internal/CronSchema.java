package dev.troupe.cron.internal;

import dev.troupe.core.Names;
import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.StorageSchema;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API. The tables of the cron module, registered in {@code META-INF/services}: jobs
 * scheduled at run time, and the run history whose primary key is the once-per-instant claim. Every
 * row belongs to a namespace ({@code troupe.namespace}), which leads both primary keys. Public with
 * a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class CronSchema implements StorageSchema {
  /**
   * The width of a job-name column. {@code VARCHAR(n)} counts characters, and a {@linkplain Names
   * name} of at most {@value Names#MAX_UTF8_BYTES} UTF-8 bytes has at most as many characters.
   */
  private static final int NAME_LENGTH = Names.MAX_UTF8_BYTES;

  @Override
  public String name() {
    return "troupe-cron";
  }

  /**
   * 1: the tables; 2: the namespace column leads both primary keys; 3: job names up to {@link
   * Names#MAX_UTF8_BYTES} (was 200 characters).
   */
  @Override
  public int version() {
    return 3;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "CLOB";
    List<String> statements = new ArrayList<>();
    statements.add(
        "CREATE TABLE IF NOT EXISTS troupe_cron_job ("
            + "namespace VARCHAR("
            + Namespaces.MAX_LENGTH
            + ") NOT NULL, "
            + "name VARCHAR("
            + NAME_LENGTH
            + ") NOT NULL, "
            + "definition "
            + text
            + " NOT NULL, "
            + "paused BOOLEAN NOT NULL, "
            + "updated_at TIMESTAMP NOT NULL, "
            + "PRIMARY KEY (namespace, name))");
    // One row per (namespace, job, scheduled instant, node): the claim; node '*' for CLUSTER jobs.
    statements.add(
        "CREATE TABLE IF NOT EXISTS troupe_cron_run ("
            + "namespace VARCHAR("
            + Namespaces.MAX_LENGTH
            + ") NOT NULL, "
            + "job VARCHAR("
            + NAME_LENGTH
            + ") NOT NULL, "
            + "scheduled_at BIGINT NOT NULL, "
            + "node VARCHAR(300) NOT NULL, "
            + "token BIGINT NOT NULL, "
            + "outcome VARCHAR(20) NOT NULL, "
            + "detail VARCHAR(1000), "
            + "recorded_at TIMESTAMP NOT NULL, "
            + "PRIMARY KEY (namespace, job, scheduled_at, node))");
    // Version 1 tables: the namespace column ('default' for their rows) into the primary keys.
    statements.addAll(Namespaces.keyStatements(dialect, "troupe_cron_job", "name"));
    statements.addAll(
        Namespaces.keyStatements(dialect, "troupe_cron_run", "job", "scheduled_at", "node"));
    // Tables before version 3: the job-name columns from VARCHAR(200) to VARCHAR(256).
    statements.add(widen("troupe_cron_job", "name"));
    statements.add(widen("troupe_cron_run", "job"));
    return statements;
  }

  /** Widening a VARCHAR: idempotent, and on PostgreSQL without a table rewrite. */
  private static String widen(String table, String column) {
    return "ALTER TABLE "
        + table
        + " ALTER COLUMN "
        + column
        + " SET DATA TYPE VARCHAR("
        + NAME_LENGTH
        + ")";
  }
}
