package dev.troupe.cron.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * INTERNAL API. The tables of the cron module, registered in {@code META-INF/services}: jobs
 * scheduled at run time, and the run history whose primary key is the once-per-instant claim.
 * Public with a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class CronSchema implements StorageSchema {
  @Override
  public String name() {
    return "troupe-cron";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "CLOB";
    return List.of(
        "CREATE TABLE IF NOT EXISTS troupe_cron_job ("
            + "name VARCHAR(200) PRIMARY KEY, "
            + "definition "
            + text
            + " NOT NULL, "
            + "paused BOOLEAN NOT NULL, "
            + "updated_at TIMESTAMP NOT NULL)",
        // One row per (job, scheduled instant, node): the claim. node is '*' for CLUSTER jobs.
        "CREATE TABLE IF NOT EXISTS troupe_cron_run ("
            + "job VARCHAR(200) NOT NULL, "
            + "scheduled_at BIGINT NOT NULL, "
            + "node VARCHAR(300) NOT NULL, "
            + "token BIGINT NOT NULL, "
            + "outcome VARCHAR(20) NOT NULL, "
            + "detail VARCHAR(1000), "
            + "recorded_at TIMESTAMP NOT NULL, "
            + "PRIMARY KEY (job, scheduled_at, node))");
  }
}
