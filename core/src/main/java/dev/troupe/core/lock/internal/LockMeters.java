package dev.troupe.core.lock.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * INTERNAL API. The lock meters of one meter registry ({@code troupe.lock.*}), shared by every JDBC
 * lock registry on it: the held gauge counts the locks of all of them. Not tagged by lock id (ids
 * are often per key, unbounded); the table is in core's README.
 */
public final class LockMeters {
  private static final Map<MeterRegistry, LockMeters> BY_REGISTRY =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final Timer acquired;
  private final Timer busy;
  private final Timer timeout;
  private final Timer failed;
  private final Counter losses;
  private final Counter tokenRaises;
  private final AtomicInteger held = new AtomicInteger();

  private LockMeters(MeterRegistry registry) {
    this.acquired = acquire(registry, "acquired");
    this.busy = acquire(registry, "busy");
    this.timeout = acquire(registry, "timeout");
    this.failed = acquire(registry, "failed");
    this.losses =
        Counter.builder("troupe.lock.losses")
            .description("Held locks lost (heartbeat failed or too late, lease taken over)")
            .register(registry);
    this.tokenRaises =
        Counter.builder("troupe.lock.token.raises")
            .description("Fencing tokens raised by this node (one per acquisition, nextToken)")
            .register(registry);
    Gauge.builder("troupe.lock.held", held, AtomicInteger::get)
        .description("Locks this node holds now")
        .strongReference(true)
        .register(registry);
  }

  /** The lock meters on {@code registry}, made on first call. */
  public static LockMeters of(MeterRegistry registry) {
    return BY_REGISTRY.computeIfAbsent(registry, LockMeters::new);
  }

  private static Timer acquire(MeterRegistry registry, String outcome) {
    return Timer.builder("troupe.lock.acquire")
        .description("From asking for a lock to the answer, by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  /** An acquisition that started at {@code startNanos} ended with {@code lock} or {@code error}. */
  public void acquireEnded(long startNanos, boolean gotLock, Throwable error) {
    Timer timer;
    if (error == null) {
      timer = gotLock ? acquired : busy;
    } else {
      Throwable cause =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      timer =
          cause instanceof TimeoutException || cause instanceof CancellationException
              ? timeout
              : failed;
    }
    timer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  /** A fencing token was raised. */
  public void tokenRaised() {
    tokenRaises.increment();
  }

  /** A lock is now held. */
  void heldNow() {
    held.incrementAndGet();
  }

  /** A held lock was released. */
  void released() {
    held.decrementAndGet();
  }

  /** A held lock was lost. */
  void lost() {
    held.decrementAndGet();
    losses.increment();
  }

  /** How many locks are held now, for tests. */
  int held() {
    return held.get();
  }
}
