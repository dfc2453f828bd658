package dev.troupe.cron.internal;

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
  @Override
  public String name() {
    return "troupe-cron";
  }

  /** 1: the tables; 2: the namespace column leads both primary keys. */
  @Override
  public int version() {
    return 2;
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
            + "name VARCHAR(200) NOT NULL, "
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
            + "job VARCHAR(200) NOT NULL, "
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
    return statements;
  }
}
