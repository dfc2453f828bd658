package dev.troupe.core.lock.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * INTERNAL API. The threads of one JDBC lock registry: a timer for heartbeats and retries, and a
 * pool for the blocking database calls they trigger (so a slow database never delays the timer).
 */
public final class LockIo implements AutoCloseable {
  private static final AtomicInteger registries = new AtomicInteger();

  private final ScheduledExecutorService timer;
  private final ExecutorService blocking;

  public LockIo(String kind) {
    int n = registries.incrementAndGet();
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon(kind + "-timer-" + n));
    this.blocking = Executors.newCachedThreadPool(daemon(kind + "-io-" + n));
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger threads = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "troupe-" + prefix + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The timer. */
  public ScheduledExecutorService timer() {
    return timer;
  }

  /** The pool for blocking calls. */
  public ExecutorService blocking() {
    return blocking;
  }

  /** Runs {@code task} on the blocking pool after {@code delayNanos}. */
  public void later(long delayNanos, Runnable task) {
    timer.schedule(() -> blocking.execute(task), delayNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    blocking.shutdown();
  }
}
