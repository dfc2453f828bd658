package dev.troupe.daemons.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * INTERNAL API. The tables of the daemons module, registered in {@code META-INF/services}: the
 * daemons started with spawnRegister (so that a new leader finds them again) and the OnceLog.
 * Public with a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class DaemonSchema implements StorageSchema {
  @Override
  public String name() {
    return "troupe-daemons";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "CLOB";
    return List.of(
        "CREATE TABLE IF NOT EXISTS troupe_daemon ("
            + "name VARCHAR(500) PRIMARY KEY, "
            + "launcher VARCHAR(200) NOT NULL, "
            + "args "
            + text
            + " NOT NULL, "
            + "created_at TIMESTAMP NOT NULL)",
        "CREATE TABLE IF NOT EXISTS troupe_once_log ("
            + "item_key VARCHAR(500) PRIMARY KEY, "
            + "state VARCHAR(20) NOT NULL, "
            + "node VARCHAR(300) NOT NULL, "
            + "token BIGINT NOT NULL, "
            + "started_at TIMESTAMP NOT NULL, "
            + "finished_at TIMESTAMP, "
            + "detail VARCHAR(1000))");
  }
}
