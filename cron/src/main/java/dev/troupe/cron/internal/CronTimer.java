package dev.troupe.cron.internal;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.Scheduler;
import scala.concurrent.ExecutionContext;

/**
 * INTERNAL API. The timer that wakes the cron scheduler at the next due instant and sends ticks at
 * their instants: a JDK {@link ScheduledThreadPoolExecutor} thread in production (it fires within a
 * fraction of a millisecond; Pekko's scheduler rounds up to its 10 ms tick), or the actor system's
 * scheduler, which Pekko's {@code ManualTime} drives in tests.
 */
public interface CronTimer extends AutoCloseable {

  /** A scheduled task that can be cancelled. */
  interface Handle {
    void cancel();
  }

  /** Runs {@code task} once after {@code delayMillis} (at once if it is not positive). */
  Handle schedule(long delayMillis, Runnable task);

  /** Stops the timer; pending tasks do not run. */
  @Override
  void close();

  /** A timer on one daemon thread of a JDK scheduled executor named {@code threadName}. */
  static CronTimer jdk(String threadName) {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    return new CronTimer() {
      @Override
      public Handle schedule(long delayMillis, Runnable task) {
        ScheduledFuture<?> f =
            executor.schedule(task, Math.max(0, delayMillis) * 1000, TimeUnit.MICROSECONDS);
        return () -> f.cancel(false);
      }

      @Override
      public void close() {
        executor.shutdownNow();
      }
    };
  }

  /** A timer on the actor system's {@code scheduler}, running tasks on {@code executor}. */
  static CronTimer pekko(Scheduler scheduler, Executor executor) {
    ExecutionContext ec = ExecutionContext.fromExecutor(executor);
    return new CronTimer() {
      @Override
      public Handle schedule(long delayMillis, Runnable task) {
        Cancellable c =
            scheduler.scheduleOnce(Duration.ofMillis(Math.max(0, delayMillis)), task, ec);
        return c::cancel;
      }

      @Override
      public void close() {
        // the actor system's scheduler stops with the system
      }
    };
  }
}
