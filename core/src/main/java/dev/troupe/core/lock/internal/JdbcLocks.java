package dev.troupe.core.lock.internal;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNegative;

import dev.troupe.core.lock.Lock;
import dev.troupe.core.lock.LockRegistry;
import dev.troupe.core.lock.LockSettings;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. What the PostgreSQL and the lease-table registries share: waiting with retries,
 * timeouts and cancellation, the heartbeat loop with self-fencing, and closing.
 */
public abstract class JdbcLocks implements LockRegistry {
  /*
   * Heartbeats: one timer tick every heartbeat-interval looks at every held lock. A lock whose
   * last good heartbeat is older than heartbeat-interval + heartbeat-timeout is marked lost at once
   * (the process was paused, or heartbeats hang), its connection aborted; otherwise, unless its
   * previous heartbeat is still running, a new one runs on the blocking pool, and any failure
   * marks the lock lost. isHeld() applies the same deadline on its own, so a holder never trusts a
   * lock longer than that even before the timer has run.
   */
  private static final Logger log = LoggerFactory.getLogger(JdbcLocks.class);

  /** The longest lock id accepted. */
  public static final int MAX_ID_LENGTH = 500;

  protected final Storage storage;
  protected final LockSettings settings;
  protected final String owner;
  protected final LockIo io;
  protected final LockMeters meters;
  private final Set<JdbcLock> held = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  protected JdbcLocks(Storage storage, LockSettings settings, String owner, String kind) {
    this.storage = storage;
    this.settings = settings;
    this.owner = owner;
    this.io = new LockIo(kind);
    this.meters = LockMeters.of(storage.meterRegistry());
    long interval = settings.heartbeatInterval().toNanos();
    io.timer().scheduleWithFixedDelay(this::heartbeats, interval, interval, TimeUnit.NANOSECONDS);
  }

  /** A held lock of a JDBC registry. */
  protected abstract static class JdbcLock extends HeldLock {
    private final AtomicBoolean beating = new AtomicBoolean();
    private final long fenceAfterNanos;
    private volatile long lastOkNanos = System.nanoTime();

    protected JdbcLock(String id, long token, Duration fenceAfter) {
      super(id, token);
      this.fenceAfterNanos = fenceAfter.toNanos();
    }

    /** Confirms the lock with the database; throws if it cannot. */
    protected abstract void heartbeat() throws SQLException;

    /** Drops the underlying session or lease without a round trip that could hang. */
    protected abstract void abandon();

    /** Records a good confirmation that started at {@code startNanos}. */
    protected final void confirmed(long startNanos) {
      lastOkNanos = startNanos;
    }

    @Override
    protected final boolean fresh() {
      return System.nanoTime() - lastOkNanos < fenceAfterNanos;
    }

    final void lose(String reason) {
      if (markLost(reason)) {
        abandon();
      }
    }
  }

  /**
   * Takes {@code id} if it is free; the returned lock is held. {@code qualified} is the name in the
   * tables.
   */
  protected abstract Optional<JdbcLock> attempt(String id, String qualified) throws SQLException;

  /** Closes what the subclass keeps besides the held locks. */
  protected abstract void closeResources();

  @Override
  public final CompletionStage<Lock> acquire(String id) {
    validate(id);
    CompletableFuture<Lock> result = new CompletableFuture<>();
    long start = System.nanoTime();
    result.whenComplete((lock, error) -> meters.acquireEnded(start, true, error));
    if (closed) {
      result.completeExceptionally(closedError(id));
      return result;
    }
    io.blocking().execute(() -> attemptUntilAcquired(id, result));
    return result;
  }

  @Override
  public final CompletionStage<Lock> acquire(String id, Duration timeout) {
    requireNonNegative(timeout, "timeout");
    CompletableFuture<Lock> result = acquire(id).toCompletableFuture();
    io.timer()
        .schedule(
            () ->
                result.completeExceptionally(
                    new TimeoutException("lock [" + id + "] was not acquired within " + timeout)),
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    return result;
  }

  @Override
  public final Optional<Lock> tryAcquire(String id) {
    validate(id);
    if (closed) {
      throw closedError(id);
    }
    long start = System.nanoTime();
    try {
      Optional<Lock> lock = attemptAndTrack(id).map(l -> l);
      meters.acquireEnded(start, lock.isPresent(), null);
      return lock;
    } catch (RuntimeException e) {
      meters.acquireEnded(start, false, e);
      throw e;
    } catch (SQLException e) {
      meters.acquireEnded(start, false, e);
      throw new StorageException(
          "Cannot try lock ["
              + id
              + "] on storage ["
              + storage.displayUrl()
              + "]: "
              + e.getMessage(),
          e);
    }
  }

  private Optional<JdbcLock> attemptAndTrack(String id) throws SQLException {
    Optional<JdbcLock> lock = attempt(id, settings.qualify(id));
    lock.ifPresent(
        l -> {
          meters.tokenRaised(); // taking a lock raises its token in the same transaction
          l.meterOn(meters);
          held.add(l);
          if (closed) { // closed while attempting: give it back
            held.remove(l);
            l.release();
          }
        });
    return lock;
  }

  private void attemptUntilAcquired(String id, CompletableFuture<Lock> result) {
    if (result.isDone()) {
      return; // cancelled or timed out
    }
    if (closed) {
      result.completeExceptionally(closedError(id));
      return;
    }
    Optional<JdbcLock> lock;
    try {
      lock = attemptAndTrack(id);
    } catch (SQLException | RuntimeException e) {
      // The database may come back: keep trying until the caller gives up.
      log.debug("Attempt to acquire lock [{}] failed; retrying: {}", id, e.toString());
      lock = Optional.empty();
    }
    if (lock.isPresent()) {
      if (!result.complete(lock.get())) {
        lock.get().release(); // cancelled or timed out while we were acquiring
      }
      return;
    }
    io.later(settings.retryInterval().toNanos(), () -> attemptUntilAcquired(id, result));
  }

  private void heartbeats() {
    long now = System.nanoTime();
    for (JdbcLock lock : held) {
      if (!lock.isActive()) {
        held.remove(lock);
      } else if (!lock.fresh()) {
        held.remove(lock);
        lock.lose(
            "no good heartbeat for more than "
                + settings.selfFenceAfter()
                + " (paused process or unresponsive database)");
      } else if (lock.beating.compareAndSet(false, true)) {
        io.blocking().execute(() -> beat(lock, now));
      }
    }
  }

  private void beat(JdbcLock lock, long startNanos) {
    try {
      if (lock.isActive()) {
        lock.heartbeat();
        lock.confirmed(startNanos);
      }
    } catch (SQLException | RuntimeException e) {
      held.remove(lock);
      lock.lose("heartbeat failed: " + e.getMessage());
    } finally {
      lock.beating.set(false);
    }
  }

  /** Stops tracking {@code lock}: it was released. */
  protected final void untrack(JdbcLock lock) {
    held.remove(lock);
  }

  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (JdbcLock lock : held) {
      try {
        lock.release()
            .toCompletableFuture()
            .get(settings.heartbeatTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        lock.lose("registry closed while releasing: " + e);
      }
    }
    held.clear();
    closeResources();
    io.close();
  }

  /** Whether {@link #close()} was called. */
  public final boolean isClosed() {
    return closed;
  }

  /** The owner this registry writes into the database (application_name, lease holder). */
  public final String owner() {
    return owner;
  }

  private static void validate(String id) {
    requireNonBlank(id, "lock id");
    requireArgument(
        id.length() <= MAX_ID_LENGTH,
        "lock id must be at most " + MAX_ID_LENGTH + " characters, got " + id.length());
  }

  private IllegalStateException closedError(String id) {
    return new IllegalStateException(
        getClass().getSimpleName() + " is closed: cannot acquire lock [" + id + "]");
  }
}
