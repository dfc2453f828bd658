package dev.troupe.core.lock;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Named mutual-exclusion locks with fencing tokens, for competing consumers: one leader per
 * projection, at most one run per side effect.
 *
 * <pre>{@code
 * LockRegistry locks = JdbcLockRegistry.create(Storage.get(system));
 * locks.tryAcquire("nightly-report").ifPresent(lock -> { try (lock) { runReport(lock); } });
 * CompletionStage<Lock> leader = locks.acquire("projection-orders");   // waits for its turn
 * }</pre>
 *
 * <p>Implementations: {@link InMemoryLockRegistry} (one JVM) and {@link JdbcLockRegistry}
 * (PostgreSQL advisory locks, or a lease table on any other JDBC database). A lock is not
 * re-entrant: a second {@code acquire} of a held id waits like any other contender, also in the
 * same registry.
 *
 * @since 0.1.0
 */
public interface LockRegistry extends AutoCloseable {

  /**
   * Acquires {@code id}, waiting as long as it takes. Cancelling the returned stage ({@code
   * toCompletableFuture().cancel(..)}) stops waiting; a lock acquired after all is released.
   *
   * @return a stage completed with the held lock; failed with {@link IllegalStateException} if the
   *     registry is closed
   * @throws IllegalArgumentException if {@code id} is null or blank
   */
  CompletionStage<Lock> acquire(String id);

  /**
   * Acquires {@code id}, waiting at most {@code timeout}.
   *
   * @return a stage completed with the held lock, or failed with {@link
   *     java.util.concurrent.TimeoutException} naming the id after {@code timeout}
   * @throws IllegalArgumentException if {@code id} is null or blank or {@code timeout} is null or
   *     negative
   */
  CompletionStage<Lock> acquire(String id, Duration timeout);

  /**
   * Takes {@code id} if it is free right now; never waits for another holder (a JDBC registry makes
   * one round trip to the database).
   *
   * @return the held lock, or empty if another holder has it
   * @throws IllegalArgumentException if {@code id} is null or blank
   * @throws IllegalStateException if the registry is closed
   */
  Optional<Lock> tryAcquire(String id);

  /** Releases every lock this registry holds and refuses new acquisitions. Idempotent. */
  @Override
  void close();
}
