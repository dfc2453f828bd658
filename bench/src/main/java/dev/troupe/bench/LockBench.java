package dev.troupe.bench;

import dev.troupe.bench.PerformanceReport.Baseline;
import dev.troupe.bench.PerformanceReport.Goal;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.lock.Lock;
import dev.troupe.core.lock.LockSettings;
import dev.troupe.core.storage.Storage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Latency of taking and giving back a lock on PostgreSQL: {@code JdbcLockRegistry.tryAcquire} then
 * {@code release}, against the raw round trips {@code SELECT pg_try_advisory_lock(k)} and {@code
 * SELECT pg_advisory_unlock(k)} on a connection borrowed from the same storage's pool, one thread,
 * no contention.
 *
 * <p>The PostgreSQL database is {@code TROUPE_TEST_POSTGRES_URL} (default {@code
 * jdbc:postgresql://127.0.0.1:5432/test?user=postgres}). Troupe's tryAcquire does more than the raw
 * pair: in the same statement as the lock it raises the fencing token ({@code troupe_lock_epoch}, a
 * committed write), and the release is handed to the registry's I/O thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LockBench {
  private Storage storage;
  private JdbcLockRegistry registry;
  private String id;
  private long rawKey;

  @Setup
  public void setUp() {
    String url = System.getenv("TROUPE_TEST_POSTGRES_URL");
    storage =
        Storage.fromUrl(
            url == null || url.isBlank()
                ? "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"
                : url);
    if (!storage.isPostgres()) {
      throw new IllegalStateException("LockBench needs PostgreSQL, got " + storage.displayUrl());
    }
    registry =
        JdbcLockRegistry.create(
            storage,
            "lock-bench",
            LockSettings.defaults().withNamespace("bench-" + UUID.randomUUID()));
    id = "bench-lock";
    rawKey = UUID.randomUUID().getMostSignificantBits();
  }

  @TearDown
  public void tearDown() {
    registry.close();
    storage.close();
  }

  /** Troupe: tryAcquire (lock + fencing token in one statement) and release. */
  @Benchmark
  @Baseline("rawAdvisoryLockUnlock")
  @Goal(ratioAtLeast = 1 / 1.2, label = "≤ 1.2× the raw round trips")
  public long tryAcquireRelease() {
    Lock lock = registry.tryAcquire(id).orElseThrow();
    long token = lock.fencingToken();
    lock.release().toCompletableFuture().join();
    return token;
  }

  /** The baseline: the two bare advisory-lock round trips on a pooled connection. */
  @Benchmark
  public boolean rawAdvisoryLockUnlock() throws SQLException {
    try (Connection c = storage.dataSource().getConnection()) {
      boolean locked;
      try (PreparedStatement lock = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
        lock.setLong(1, rawKey);
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          locked = rs.getBoolean(1);
        }
      }
      try (PreparedStatement unlock = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        unlock.setLong(1, rawKey);
        try (ResultSet rs = unlock.executeQuery()) {
          rs.next();
          return locked && rs.getBoolean(1);
        }
      }
    }
  }
}
