package dev.troupe.core.lock.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * INTERNAL API. The tables of the lock layer; registered in core's {@code META-INF/services}.
 *
 * <ul>
 *   <li>{@code troupe_lock_epoch}: the fencing token of every lock name, raised by one whenever the
 *       lock changes hands (under the lock); protected writes check it. On PostgreSQL also the
 *       owner of the last holding and when a session fencer ended that owner's sessions.
 *   <li>{@code troupe_lock_key}: PostgreSQL advisory-lock key of every name; {@code UNIQUE(name)}
 *       and the key as primary key make a 64-bit hash collision an error, not a shared lock.
 *   <li>{@code troupe_lock_lease}: the lease rows of the lease-table locks (databases other than
 *       PostgreSQL).
 * </ul>
 *
 * <p>Public with a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class LockSchema implements StorageSchema {
  @Override
  public String name() {
    return "troupe-lock";
  }

  @Override
  public int version() {
    return 2;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS troupe_lock_epoch ("
            + "name VARCHAR(600) PRIMARY KEY, "
            + "epoch BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS troupe_lock_key ("
            + "lock_key BIGINT PRIMARY KEY, "
            + "name VARCHAR(600) NOT NULL UNIQUE)",
        "CREATE TABLE IF NOT EXISTS troupe_lock_lease ("
            + "name VARCHAR(600) PRIMARY KEY, "
            + "holder VARCHAR(600), "
            + "token BIGINT NOT NULL, "
            + "expires_at TIMESTAMP)",
        // Version 2: on PostgreSQL the row names the owner of the advisory lock's last holding, and
        // when a session fencer ended that owner's sessions (see AdvisoryLocks).
        "ALTER TABLE troupe_lock_epoch ADD COLUMN IF NOT EXISTS owner VARCHAR(300)",
        "ALTER TABLE troupe_lock_epoch ADD COLUMN IF NOT EXISTS fenced_at TIMESTAMP",
        "CREATE INDEX IF NOT EXISTS troupe_lock_epoch_owner ON troupe_lock_epoch (owner)");
  }
}
