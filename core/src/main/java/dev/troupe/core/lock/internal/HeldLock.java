package dev.troupe.core.lock.internal;

import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.lock.Lock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The state every {@link Lock} shares: held / released / lost, exactly once, and the
 * lost listeners. Subclasses give up the underlying lock in {@link #doRelease()}.
 */
public abstract class HeldLock implements Lock {
  /*
   * Concurrency: the state moves HELD -> RELEASED or HELD -> LOST once, under `this`; listeners
   * added after LOST run at once on the caller, listeners added before run on the thread that
   * marks the loss. doRelease runs at most once, only on HELD -> RELEASED.
   */
  private static final Logger log = LoggerFactory.getLogger(HeldLock.class);

  private enum State {
    HELD,
    RELEASED,
    LOST
  }

  private final String id;
  private final long fencingToken;
  private final List<Runnable> listeners = new ArrayList<>(); // guarded by this
  private volatile State state = State.HELD;
  private CompletionStage<Done> released; // guarded by this
  private LockMeters meters; // guarded by this; null: not metered

  protected HeldLock(String id, long fencingToken) {
    this.id = id;
    this.fencingToken = fencingToken;
  }

  @Override
  public final String id() {
    return id;
  }

  @Override
  public final long fencingToken() {
    return fencingToken;
  }

  @Override
  public final boolean isHeld() {
    return state == State.HELD && fresh();
  }

  /**
   * Whether the holder's last confirmation of the lock is recent enough to still trust it; a
   * subclass with heartbeats answers false once the last good one is too old (for example after the
   * process was paused), before the heartbeat thread has even noticed.
   */
  protected boolean fresh() {
    return true;
  }

  /**
   * Counts this lock as held on {@code lockMeters} until it is released or lost; called once, by
   * its registry, before the lock is handed out.
   */
  final synchronized void meterOn(LockMeters lockMeters) {
    if (meters == null && state == State.HELD) {
      meters = lockMeters;
      lockMeters.heldNow();
    }
  }

  /** Whether the lock is neither released nor lost (whatever {@link #fresh()} says). */
  protected final boolean isActive() {
    return state == State.HELD;
  }

  @Override
  public final void onLost(Runnable listener) {
    requireNonNull(listener, "listener");
    synchronized (this) {
      if (state != State.LOST) {
        listeners.add(listener);
        return;
      }
    }
    run(listener);
  }

  @Override
  public final CompletionStage<Done> release() {
    synchronized (this) {
      if (released != null) {
        return released;
      }
      if (state == State.LOST) {
        released = CompletableFuture.completedFuture(Done.getInstance());
        return released;
      }
      state = State.RELEASED;
      if (meters != null) {
        meters.released();
      }
      listeners.clear();
      released = doRelease();
      return released;
    }
  }

  /**
   * Marks the lock lost (if it is still held) and runs the listeners; returns whether this call did
   * it. The underlying lock is the subclass's to clean up.
   */
  public final boolean markLost(String reason) {
    List<Runnable> toRun;
    synchronized (this) {
      if (state != State.HELD) {
        return false;
      }
      state = State.LOST;
      if (meters != null) {
        meters.lost();
      }
      toRun = List.copyOf(listeners);
      listeners.clear();
    }
    log.warn("Lock [{}] (token {}) lost: {}", id, fencingToken, reason);
    toRun.forEach(this::run);
    return true;
  }

  /** Gives up the underlying lock; called once, when the holder releases it. */
  protected abstract CompletionStage<Done> doRelease();

  private void run(Runnable listener) {
    try {
      listener.run();
    } catch (RuntimeException e) {
      log.warn("A lost-lock listener of [{}] failed", id, e);
    }
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "(" + id + ", token " + fencingToken + ", " + state + ")";
  }
}
