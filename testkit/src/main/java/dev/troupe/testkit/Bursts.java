package dev.troupe.testkit;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Runs a burst of asynchronous calls with a bounded number in flight, as a load test would, and
 * says how it went: how many calls succeeded, failed or were still pending at the deadline.
 *
 * <pre>{@code
 * Bursts.Result result =
 *     Bursts.run(10_000, 2_000, Duration.ofSeconds(60), i -> registry.register(group, refs.get(i)));
 * assertTrue(result.allSucceeded(), result.toString());
 * }</pre>
 *
 * <p>A call is started only when fewer than {@code inFlight} are running; a permit is released when
 * its stage completes, however it completes. No further call is started after the first failure or
 * once the deadline has passed, so a failing burst ends quickly and the result shows where.
 */
public final class Bursts {
  private Bursts() {}

  /**
   * What a burst did.
   *
   * @param count calls asked for
   * @param started calls started
   * @param succeeded calls whose stage completed normally
   * @param failed calls whose stage failed
   * @param pending started calls whose stage had not completed at the deadline
   * @param firstError the first failure, {@code null} if none
   * @param elapsed from the first call until all completed (or the deadline)
   */
  public record Result(
      int count,
      int started,
      int succeeded,
      int failed,
      int pending,
      Throwable firstError,
      Duration elapsed) {

    /** Whether every one of the {@code count} calls was started and completed normally. */
    public boolean allSucceeded() {
      return succeeded == count && failed == 0 && pending == 0;
    }

    @Override
    public String toString() {
      return succeeded
          + " of "
          + count
          + " calls succeeded in "
          + elapsed.toMillis()
          + " ms ("
          + started
          + " started, "
          + failed
          + " failed, "
          + pending
          + " still pending"
          + (firstError == null ? "" : "; first error: " + firstError)
          + ")";
    }
  }

  /**
   * Calls {@code call.apply(i)} for {@code i} in {@code 0..count-1} with at most {@code inFlight}
   * stages incomplete at any time, and waits until all have completed or {@code timeout} has passed
   * since the first call. Never throws for a failed call: the result counts it.
   *
   * @throws IllegalArgumentException if {@code count < 0}, {@code inFlight < 1} or {@code timeout}
   *     is not positive
   */
  public static Result run(
      int count, int inFlight, Duration timeout, IntFunction<? extends CompletionStage<?>> call) {
    if (count < 0 || inFlight < 1 || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "Bursts.run needs count >= 0, inFlight >= 1 and a positive timeout, got: "
              + count
              + ", "
              + inFlight
              + ", "
              + timeout);
    }
    Semaphore window = new Semaphore(inFlight);
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    int started = 0;
    try {
      while (started < count && firstError.get() == null) {
        if (!window.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          break;
        }
        CompletionStage<?> stage;
        try {
          stage = call.apply(started);
        } catch (RuntimeException e) {
          window.release();
          failed.incrementAndGet();
          firstError.compareAndSet(null, e);
          started++;
          break;
        }
        started++;
        stage.whenComplete(
            (value, error) -> {
              if (error == null) {
                succeeded.incrementAndGet();
              } else {
                failed.incrementAndGet();
                firstError.compareAndSet(null, error);
              }
              window.release();
            });
      }
      // Every permit back = every started call completed.
      if (window.tryAcquire(inFlight, deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        window.release(inFlight);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during a burst", e);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    int ok = succeeded.get();
    int bad = failed.get();
    return new Result(count, started, ok, bad, started - ok - bad, firstError.get(), elapsed);
  }
}
