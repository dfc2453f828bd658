package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.lock.InMemoryLockRegistry;
import dev.troupe.core.lock.Lock;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/** {@link LeaderOnly} on one node: the behavior gets the lock (or its token) it runs under. */
final class LeaderOnlyIT {
  @Test
  void theBehaviorGetsTheLockItRunsUnderAndItIsNoLongerHeldOnceTheCompetitorStops()
      throws Exception {
    InMemoryLockRegistry locks = InMemoryLockRegistry.create();
    try (TestCluster cluster = TestCluster.start(1, "")) {
      TroupeNode node = cluster.liveNodes().get(0);
      BlockingQueue<Lock> leading = new LinkedBlockingQueue<>();
      ActorRef<?> competitor =
          LeaderOnly.runWithLock(
              node,
              "projection",
              locks,
              lock -> {
                leading.add(lock);
                return Behaviors.ignore();
              });
      Lock lock = leading.poll(30, TimeUnit.SECONDS);
      assertNotNull(lock, "the only competitor leads");
      assertEquals("projection", lock.id());
      assertTrue(lock.isHeld(), "the behavior runs while the lock is held");
      assertTrue(locks.tryAcquire("projection").isEmpty(), "nobody else can take it meanwhile");

      stop(node, competitor);
      Eventually.awaitAssert(
          Duration.ofSeconds(10),
          "the lock is released when the competitor stops",
          () -> assertFalse(lock.isHeld()));
      Lock next = locks.tryAcquire("projection").orElseThrow();
      assertTrue(next.fencingToken() > lock.fencingToken(), "a later holder gets a larger token");
    }
  }

  private static void stop(TroupeNode node, ActorRef<?> competitor) {
    node.system().classicSystem().stop(Adapter.toClassic(competitor));
  }

  @Test
  void theTokenFormGetsTheFencingTokenOfTheLock() throws Exception {
    InMemoryLockRegistry locks = InMemoryLockRegistry.create();
    try (TestCluster cluster = TestCluster.start(1, "")) {
      BlockingQueue<Long> tokens = new LinkedBlockingQueue<>();
      ActorRef<?> competitor =
          LeaderOnly.run(
              cluster.liveNodes().get(0),
              "reports",
              locks,
              token -> {
                tokens.add(token);
                return Behaviors.ignore();
              });
      Long token = tokens.poll(30, TimeUnit.SECONDS);
      assertNotNull(token, "the only competitor leads");
      assertTrue(locks.tryAcquire("reports").isEmpty(), "it holds the lock");

      stop(cluster.liveNodes().get(0), competitor);
      AtomicReference<Lock> next = new AtomicReference<>();
      Eventually.awaitAssert(
          Duration.ofSeconds(10),
          "the lock is free once the competitor stops",
          () -> next.set(locks.tryAcquire("reports").orElseThrow()));
      assertEquals(token + 1, next.get().fencingToken(), "the behavior got the lock's own token");
    }
  }
}
