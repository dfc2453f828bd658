package dev.troupe.core.lock;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * A held lock of a {@link LockRegistry}, with a fencing token.
 *
 * <pre>{@code
 * try (Lock lock = locks.acquire("projection-orders").toCompletableFuture().join()) {
 *   lock.onLost(() -> stopProjection());               // the registry learned the lock is gone
 *   runProjection(lock.fencingToken());               // every write carries the token
 * }                                                    // release()
 * }</pre>
 *
 * <p><b>Fencing.</b> A lock can be lost without its holder's doing: the holder's process pauses,
 * its database connection breaks, the database restarts. The holder learns it at the latest one
 * heartbeat later ({@link #isHeld()} turns false and the {@link #onLost} listeners run), but in
 * between it may still act. So every side effect the lock protects should carry {@link
 * #fencingToken()}, and the resource should refuse a token lower than the highest it has seen; a
 * Troupe JDBC lock's token is the row {@code troupe_lock_epoch(name, epoch)}, which {@link
 * JdbcLockRegistry#requireCurrentToken} checks inside the caller's own transaction.
 *
 * @since 0.1.0
 */
public interface Lock extends AutoCloseable {

  /** The lock's id, as given to {@link LockRegistry#acquire(String)}. */
  String id();

  /**
   * The fencing token of this holding: strictly greater than the token of every earlier holder of
   * the same id, also across restarts of the process and (for JDBC locks) of the database.
   */
  long fencingToken();

  /**
   * Whether this holder still holds the lock as far as the registry knows: false after {@link
   * #release()}, and as soon as the registry learns the lock is gone (a failed heartbeat, a broken
   * connection, an expired lease). Never true when the registry knows the lock is gone.
   */
  boolean isHeld();

  /**
   * Runs {@code listener} once when the lock is lost without {@link #release()}: at once if it is
   * already lost. Listeners run on a registry thread and must not block.
   *
   * @throws IllegalArgumentException if {@code listener} is null
   */
  void onLost(Runnable listener);

  /**
   * Releases the lock; idempotent (a second call returns a completed stage). After it, {@link
   * #isHeld()} is false and the lost listeners do not run.
   */
  CompletionStage<Done> release();

  /** Releases the lock without waiting; see {@link #release()}. */
  @Override
  default void close() {
    release();
  }
}
