package dev.troupe.core.lock;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNegative;

import dev.troupe.core.lock.internal.HeldLock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;

/**
 * A {@link LockRegistry} in the memory of one JVM: for tests, single-node applications, and several
 * nodes of one JVM that share an instance ({@link #shared()}).
 *
 * <p>Waiters get a released lock in the order they asked for it. Tokens start at 1 per id and
 * increase by one on every hand-over; they do not survive the JVM. A lock is never lost, except
 * through {@link #close()}, which releases every lock.
 *
 * @since 0.1.0
 */
public final class InMemoryLockRegistry implements LockRegistry {
  private static final InMemoryLockRegistry SHARED = new InMemoryLockRegistry();
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "troupe-in-memory-lock-timer");
            t.setDaemon(true);
            return t;
          });

  /** One id's holder, waiters and last token (kept after release); guarded by the registry. */
  private static final class Entry {
    MemoryLock holder;
    long token;
    final Deque<CompletableFuture<Lock>> waiters = new ArrayDeque<>();
  }

  private final Map<String, Entry> entries = new HashMap<>(); // guarded by this
  private boolean closed; // guarded by this

  private InMemoryLockRegistry() {}

  /** A new, independent registry. */
  public static InMemoryLockRegistry create() {
    return new InMemoryLockRegistry();
  }

  /** The JVM-wide registry: every caller in this JVM shares its locks. It cannot be closed. */
  public static InMemoryLockRegistry shared() {
    return SHARED;
  }

  @Override
  public CompletionStage<Lock> acquire(String id) {
    requireNonBlank(id, "lock id");
    CompletableFuture<Lock> result = new CompletableFuture<>();
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError(id));
      }
      Entry entry = entries.computeIfAbsent(id, k -> new Entry());
      if (entry.holder == null) {
        result.complete(grant(id, entry));
      } else {
        entry.waiters.add(result);
      }
    }
    return result;
  }

  @Override
  public CompletionStage<Lock> acquire(String id, Duration timeout) {
    requireNonNegative(timeout, "timeout");
    CompletableFuture<Lock> result = acquire(id).toCompletableFuture();
    if (!result.isDone()) {
      TIMER.schedule(
          () ->
              result.completeExceptionally(
                  new TimeoutException("lock [" + id + "] was not acquired within " + timeout)),
          timeout.toNanos(),
          TimeUnit.NANOSECONDS);
    }
    return result;
  }

  @Override
  public Optional<Lock> tryAcquire(String id) {
    requireNonBlank(id, "lock id");
    synchronized (this) {
      if (closed) {
        throw closedError(id);
      }
      Entry entry = entries.computeIfAbsent(id, k -> new Entry());
      return entry.holder == null ? Optional.of(grant(id, entry)) : Optional.empty();
    }
  }

  private MemoryLock grant(String id, Entry entry) {
    entry.token++;
    entry.holder = new MemoryLock(id, entry.token);
    return entry.holder;
  }

  /** Hands the lock of {@code id} to the next waiter that still wants it. */
  private void released(MemoryLock lock) {
    List<Runnable> grants = new ArrayList<>();
    synchronized (this) {
      Entry entry = entries.get(lock.id());
      if (entry == null || entry.holder != lock) {
        return;
      }
      entry.holder = null;
      while (!entry.waiters.isEmpty()) {
        CompletableFuture<Lock> next = entry.waiters.poll();
        if (next.isDone()) {
          continue; // cancelled or timed out
        }
        MemoryLock granted = grant(lock.id(), entry);
        grants.add(
            () -> {
              if (!next.complete(granted)) {
                granted.release(); // cancelled in the meantime: pass it on
              }
            });
        break;
      }
    }
    grants.forEach(Runnable::run); // outside the monitor: completion runs callers' code
  }

  /** Releases every lock and fails every waiter; the shared registry cannot be closed. */
  @Override
  public void close() {
    if (this == SHARED) {
      return;
    }
    List<MemoryLock> held = new ArrayList<>();
    List<CompletableFuture<Lock>> waiting = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (Entry entry : entries.values()) {
        if (entry.holder != null) {
          held.add(entry.holder);
        }
        waiting.addAll(entry.waiters);
        entry.waiters.clear();
      }
    }
    waiting.forEach(w -> w.completeExceptionally(new IllegalStateException("registry closed")));
    held.forEach(MemoryLock::release);
  }

  private static IllegalStateException closedError(String id) {
    return new IllegalStateException(
        "InMemoryLockRegistry is closed: cannot acquire lock [" + id + "]");
  }

  private final class MemoryLock extends HeldLock {
    MemoryLock(String id, long token) {
      super(id, token);
    }

    @Override
    protected CompletionStage<Done> doRelease() {
      released(this);
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }
}
