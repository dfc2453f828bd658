package dev.troupe.testkit;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** Waits for a {@link CompletionStage} in a test: its value, or the error it failed with. */
public final class Stages {
  private Stages() {}

  /**
   * The value of {@code stage}; an {@link AssertionError} if it fails or takes over {@code
   * timeout}.
   */
  public static <T> T await(CompletionStage<T> stage, Duration timeout) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("stage did not complete in " + timeout, e);
    }
  }

  /**
   * The error {@code stage} failed with (waiting for it); an {@link AssertionError} if it did not.
   */
  public static Throwable failure(CompletionStage<?> stage) {
    CompletionException e =
        assertThrows(CompletionException.class, () -> stage.toCompletableFuture().join());
    return e.getCause();
  }
}
