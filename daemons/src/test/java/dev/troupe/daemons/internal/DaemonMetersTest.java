package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/** The daemon meters: tags, the epoch gauge's life, and the restart timer around a supervisor. */
final class DaemonMetersTest {
  @Test
  void anInstanceHereHasAnEpochGaugeThatGoesWhenItEndsAlsoInTheApplicationsRegistry() {
    SimpleMeterRegistry application = new SimpleMeterRegistry();
    CompositeMeterRegistry node = new CompositeMeterRegistry(); // as TroupeNode.meterRegistry()
    node.add(application);
    DaemonMeters meters = new DaemonMeters(node);

    meters.placed("importer-a", "importer", 3);
    meters.placed("importer-b", "importer", 4);
    meters.placed("importer-a", "importer", 7); // moved back here: a new epoch
    assertEquals(3, count(application, DaemonMeters.PLACEMENTS, "launcher", "importer"));
    assertEquals(7, epoch(application, "importer-a"));
    assertEquals(4, epoch(application, "importer-b"));

    meters.ended("importer-a");
    assertNull(
        application.find(DaemonMeters.EPOCH).tag("daemon", "importer-a").gauge(),
        "no gauge for an instance that no longer runs here");
    assertEquals(4, epoch(application, "importer-b"));
    meters.placed("importer-a", "importer", 9);
    assertEquals(9, epoch(application, "importer-a"), "a fresh gauge, not the removed one");
  }

  @Test
  void failoversAndDuplicatesAreTaggedByLauncherAndCause() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DaemonMeters meters = new DaemonMeters(registry);
    meters.failedOver("billing", DaemonMeters.NODE_LOST, TimeUnit.MILLISECONDS.toNanos(1_500));
    meters.failedOver("billing", DaemonMeters.NODE_LOST, TimeUnit.MILLISECONDS.toNanos(500));
    meters.failedOver("billing", DaemonMeters.STOPPED, TimeUnit.MILLISECONDS.toNanos(1_000));
    meters.duplicateStopped("billing");
    Timer lost =
        registry
            .get(DaemonMeters.FAILOVERS)
            .tag("launcher", "billing")
            .tag("cause", "node-lost")
            .timer();
    assertEquals(2, lost.count());
    assertEquals(1_500, lost.max(TimeUnit.MILLISECONDS));
    assertEquals(1, registry.get(DaemonMeters.FAILOVERS).tag("cause", "stopped").timer().count());
    assertEquals(1, count(registry, DaemonMeters.DUPLICATES, "launcher", "billing"));
  }

  @Test
  void aRestartIsTimedFromTheFailureToTheRestartedBehaviorRunning() {
    ActorTestKit kit = ActorTestKit.create();
    try {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      DaemonMeters meters = new DaemonMeters(registry);
      TestProbe<String> started = kit.createTestProbe();
      Behavior<String> daemon =
          Behaviors.setup(
              ctx -> {
                started.ref().tell("started");
                return Behaviors.receiveMessage(
                    msg -> {
                      throw new IllegalStateException("boom");
                    });
              });
      ActorRef<String> ref =
          kit.spawn(
              Behaviors.supervise(meters.timingRestarts(daemon, "worker"))
                  .onFailure(
                      SupervisorStrategy.restartWithBackoff(
                          Duration.ofMillis(50), Duration.ofMillis(50), 0)));
      started.expectMessage("started");
      Timer restarts = registry.get(DaemonMeters.RESTARTS).tag("launcher", "worker").timer();
      assertEquals(0, restarts.count(), "the first start is no restart");

      ref.tell("fail");
      started.expectMessage(Duration.ofSeconds(5), "started");
      Eventually.awaitAssert(
          Duration.ofSeconds(5), "one restart timed", () -> assertEquals(1, restarts.count()));
      assertTrue(
          restarts.totalTime(TimeUnit.MILLISECONDS) >= 40,
          "at least the backoff: " + restarts.totalTime(TimeUnit.MILLISECONDS));
    } finally {
      kit.shutdownTestKit();
    }
  }

  private static double count(SimpleMeterRegistry r, String name, String tag, String value) {
    return r.get(name).tag(tag, value).counter().count();
  }

  private static double epoch(SimpleMeterRegistry r, String daemon) {
    return r.get(DaemonMeters.EPOCH).tag("daemon", daemon).gauge().value();
  }
}
