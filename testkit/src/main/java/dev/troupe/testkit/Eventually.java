package dev.troupe.testkit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Re-checks an assertion until it holds or a deadline passes, like Pekko's {@code
 * TestProbe.awaitAssert}, but usable without an actor system (for example after every node of a
 * test has stopped). The failure names what was awaited and carries the last assertion error.
 */
public final class Eventually {
  private static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private Eventually() {}

  /** Runs {@code assertion} until it stops throwing {@link AssertionError}, or {@code timeout}. */
  public static void awaitAssert(Duration timeout, String what, Runnable assertion) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw new AssertionError("Timed out after " + timeout + " awaiting " + what, e);
        }
      }
      LockSupport.parkNanos(INTERVAL_NANOS);
    }
  }

  /** Waits until {@code condition} is true, or fails after {@code timeout} naming {@code what}. */
  public static void awaitCondition(Duration timeout, String what, BooleanSupplier condition) {
    awaitAssert(
        timeout,
        what,
        () -> {
          if (!condition.getAsBoolean()) {
            throw new AssertionError(what + " is still false");
          }
        });
  }
}
