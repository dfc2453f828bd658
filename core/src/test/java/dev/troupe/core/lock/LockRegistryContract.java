package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link LockRegistry} must keep, run against each implementation by a subclass
 * that says how to make registries: two registries from {@link #newRegistry()} behave like two
 * nodes sharing the locks.
 */
abstract class LockRegistryContract {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final List<LockRegistry> registries = new ArrayList<>();

  /** A registry that shares its locks with every other registry of this test. */
  protected abstract LockRegistry createRegistry();

  /** How many rounds each of the 8 contenders completes in the mutual-exclusion test. */
  protected int contentionRounds() {
    return 1000;
  }

  protected final LockRegistry newRegistry() {
    LockRegistry registry = createRegistry();
    registries.add(registry);
    return registry;
  }

  @AfterEach
  void closeRegistries() {
    registries.forEach(LockRegistry::close);
    registries.clear();
  }

  protected static String freshId() {
    return "lock-" + UUID.randomUUID();
  }

  protected static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("stage did not complete", e);
    }
  }

  @Test
  void eightContendersNeverHoldTheLockTogetherAndTokensOnlyGrow() throws Exception {
    LockRegistry first = newRegistry();
    LockRegistry second = newRegistry();
    String id = freshId();
    int rounds = contentionRounds();
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicLong lastToken = new AtomicLong();
    AtomicInteger tokenRegressions = new AtomicInteger();
    long[] counter = {0}; // protected by the lock only
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> contenders = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        LockRegistry registry = c % 2 == 0 ? first : second;
        int contender = c;
        contenders.add(
            pool.submit(
                () -> {
                  for (int round = 0; round < rounds; round++) {
                    Lock lock = takeTurn(registry, id, contender, round);
                    if (holders.incrementAndGet() != 1) {
                      overlaps.incrementAndGet();
                    }
                    if (lock.fencingToken() <= lastToken.get()) {
                      tokenRegressions.incrementAndGet();
                    }
                    lastToken.set(lock.fencingToken());
                    long seen = counter[0];
                    Thread.onSpinWait();
                    counter[0] = seen + 1;
                    holders.decrementAndGet();
                    await(lock.release());
                  }
                  return null;
                }));
      }
      for (Future<?> f : contenders) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(0, overlaps.get(), "rounds in which two contenders held the lock");
    assertEquals(0, tokenRegressions.get(), "hand-overs whose token did not grow");
    assertEquals(8L * rounds, counter[0], "increments of the protected counter");
  }

  /** Mostly tryAcquire (never waits) with a short pause, every tenth round a waiting acquire. */
  private static Lock takeTurn(LockRegistry registry, String id, int contender, int round) {
    if ((round + contender) % 10 == 0) {
      return await(registry.acquire(id, TIMEOUT));
    }
    while (true) {
      Optional<Lock> lock = registry.tryAcquire(id);
      if (lock.isPresent()) {
        return lock.get();
      }
      LockSupport.parkNanos(200_000);
    }
  }

  @Test
  void aReleasedLockCanBeTakenAgainWithALargerToken() {
    LockRegistry registry = newRegistry();
    String id = freshId();
    Lock first = registry.tryAcquire(id).orElseThrow();
    assertTrue(first.isHeld());
    assertEquals(id, first.id());
    await(first.release());
    assertFalse(first.isHeld());
    Lock second = await(registry.acquire(id));
    assertTrue(second.fencingToken() > first.fencingToken(), first + " then " + second);
    Lock third;
    await(second.release());
    third = newRegistry().tryAcquire(id).orElseThrow();
    assertTrue(third.fencingToken() > second.fencingToken(), second + " then " + third);
    third.close();
  }

  @Test
  void tryAcquireNeverWaitsForTheHolder() {
    String id = freshId();
    Lock held = newRegistry().tryAcquire(id).orElseThrow();
    LockRegistry other = newRegistry();
    assertTimeoutPreemptively(
        Duration.ofSeconds(10), () -> assertEquals(Optional.empty(), other.tryAcquire(id)));
    assertEquals(Optional.empty(), newRegistry().tryAcquire(id), "nor in a third registry");
    held.close();
  }

  @Test
  void aWaitingAcquireGetsTheLockWhenTheHolderReleasesIt() {
    String id = freshId();
    LockRegistry holderRegistry = newRegistry();
    Lock held = holderRegistry.tryAcquire(id).orElseThrow();
    CompletableFuture<Lock> waiting = newRegistry().acquire(id).toCompletableFuture();
    assertFalse(waiting.isDone(), "waits while the lock is held");
    await(held.release());
    Lock next = await(waiting);
    assertTrue(next.isHeld());
    assertTrue(next.fencingToken() > held.fencingToken());
    next.close();
  }

  @Test
  void aSecondAcquireOfAHeldIdWaitsEvenInTheSameRegistry() {
    LockRegistry registry = newRegistry();
    String id = freshId();
    Lock held = registry.tryAcquire(id).orElseThrow();
    assertEquals(Optional.empty(), registry.tryAcquire(id), "not re-entrant");
    held.close();
  }

  @Test
  void acquireWithATimeoutFailsNamingTheLock() {
    String id = freshId();
    Lock held = newRegistry().tryAcquire(id).orElseThrow();
    CompletionException failure =
        assertThrows(
            CompletionException.class,
            () -> newRegistry().acquire(id, Duration.ofMillis(300)).toCompletableFuture().join());
    assertInstanceOf(TimeoutException.class, failure.getCause());
    assertTrue(failure.getCause().getMessage().contains(id), failure.getCause().getMessage());
    held.close();
  }

  @Test
  void aCancelledAcquireDoesNotKeepTheLock() {
    String id = freshId();
    Lock held = newRegistry().tryAcquire(id).orElseThrow();
    CompletableFuture<Lock> cancelled = newRegistry().acquire(id).toCompletableFuture();
    assertTrue(cancelled.cancel(false));
    await(held.release());
    LockRegistry third = newRegistry();
    Eventually.awaitAssert(
        TIMEOUT,
        "the lock free for a third registry",
        () -> third.tryAcquire(id).orElseThrow(() -> new AssertionError("still taken")).close());
  }

  @Test
  void releaseIsIdempotentAndLostListenersDoNotRunAfterIt() {
    Lock lock = newRegistry().tryAcquire(freshId()).orElseThrow();
    AtomicInteger lost = new AtomicInteger();
    lock.onLost(lost::incrementAndGet);
    await(lock.release());
    await(lock.release());
    lock.close();
    assertFalse(lock.isHeld());
    assertEquals(0, lost.get(), "a release is not a loss");
  }

  @Test
  void closingTheRegistryReleasesItsLocksAndRefusesNewOnes() {
    LockRegistry registry = newRegistry();
    String id = freshId();
    Lock lock = registry.tryAcquire(id).orElseThrow();
    registry.close();
    registry.close(); // idempotent
    assertFalse(lock.isHeld());
    IllegalStateException closed =
        assertThrows(IllegalStateException.class, () -> registry.tryAcquire(id));
    assertTrue(closed.getMessage().contains(id), closed.getMessage());
    CompletionException failed =
        assertThrows(
            CompletionException.class, () -> registry.acquire(id).toCompletableFuture().join());
    assertInstanceOf(IllegalStateException.class, failed.getCause());
    LockRegistry other = newRegistry();
    Eventually.awaitAssert(
        TIMEOUT,
        "the lock free after close",
        () -> other.tryAcquire(id).orElseThrow(() -> new AssertionError("still taken")).close());
  }

  @Test
  void badInputIsRejectedNamingTheArgument() {
    LockRegistry registry = newRegistry();
    IllegalArgumentException empty =
        assertThrows(IllegalArgumentException.class, () -> registry.tryAcquire(" "));
    assertTrue(empty.getMessage().contains("lock id"), empty.getMessage());
    assertThrows(IllegalArgumentException.class, () -> registry.acquire(null));
    assertThrows(IllegalArgumentException.class, () -> registry.acquire(""));
    assertThrows(
        IllegalArgumentException.class, () -> registry.acquire("x", Duration.ofSeconds(-1)));
    Lock lock = registry.tryAcquire(freshId()).orElseThrow();
    assertThrows(IllegalArgumentException.class, () -> lock.onLost(null));
    lock.close();
  }
}
