package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.CronDone;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.CronTick;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ManualClock;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The cron agent's timing and reports on Pekko's ManualTime, with probes as the targets. */
final class CronAgentTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final String SELF = "pekko://troupe@127.0.0.1:2";

  private ActorTestKit kit;
  private ManualTime time;
  private ManualClock clock;
  private TestProbe<CronTick> named;
  private TestProbe<CronTick> memberA;
  private TestProbe<CronTick> memberB;
  private TestProbe<CronAgent.Reports> reports;
  private ActorRef<CronAgent.Command> agent;
  private SimpleMeterRegistry meters;

  @BeforeEach
  void start() {
    kit = ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
    time = ManualTime.get(kit.system());
    clock = new ManualClock(T0);
    named = kit.createTestProbe();
    memberA = kit.createTestProbe();
    memberB = kit.createTestProbe();
    reports = kit.createTestProbe();
    CronAgent.Recipients recipients = recipients(List.of(memberA.ref(), memberB.ref()));
    meters = new SimpleMeterRegistry();
    agent =
        kit.spawn(
            CronAgent.create(
                recipients,
                null,
                CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext()),
                clock,
                Duration.ofSeconds(30),
                new CronMeters(meters)));
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  private void advance(Duration d) {
    clock.advance(d);
    time.timePasses(d);
  }

  private static CronAgent.Deliver deliver(
      String job, Instant at, String target, String group, CronScope scope, long awaitMillis) {
    return new CronAgent.Deliver(
        job,
        at.toEpochMilli(),
        7,
        CronScheduler.idempotencyKey(job, at, scope == CronScope.NODE ? SELF : "*"),
        target,
        group,
        scope,
        awaitMillis,
        0,
        false);
  }

  private CronAgent.DeliverAll all(Instant at, CronAgent.Deliver... deliveries) {
    return new CronAgent.DeliverAll(
        List.of(deliveries), at.toEpochMilli(), at.toEpochMilli() + 1000, reports.ref());
  }

  private double fires(String job, String outcome) {
    return meters.get(CronMeters.FIRES).tag("job", job).tag("outcome", outcome).counter().count();
  }

  private CronAgent.Delivered report() {
    List<CronAgent.Delivered> list = reports.receiveMessage(Duration.ofSeconds(10)).reports();
    assertEquals(1, list.size(), list.toString());
    return list.get(0);
  }

  @Test
  void aConfirmedTickIsMarkedBeforeItLeavesAndASecondDeliveryOfTheClaimIsNotSent() {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      CronStore store = new CronStore(storage, "test", "test");
      long token = store.takeOver();
      Instant at = Instant.ofEpochMilli(System.currentTimeMillis()).minusMillis(50);
      store.claim(List.of(new CronStore.ClaimRequest("once", at, "*")), token, null);
      ActorRef<CronAgent.Command> confirming =
          kit.spawn(
              CronAgent.create(
                  recipients(List.of()),
                  store,
                  CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext()),
                  java.time.Clock.systemUTC(),
                  Duration.ofSeconds(30)));
      CronAgent.Deliver d =
          new CronAgent.Deliver(
              "once",
              at.toEpochMilli(),
              token,
              CronScheduler.idempotencyKey("once", at, "*"),
              "target",
              null,
              CronScope.CLUSTER,
              0,
              0,
              true);
      long notAfter = at.toEpochMilli() + 60_000;
      confirming.tell(
          new CronAgent.DeliverAll(List.of(d), at.toEpochMilli(), notAfter, reports.ref()));
      assertEquals(at, named.expectMessageClass(CronTick.class).scheduledAt());
      assertEquals("delivered", reports.receiveMessage().reports().get(0).outcome());
      assertEquals(
          "delivering",
          store.recentRuns(10).get("once").get(0).outcome(),
          "marked in the database before it left");

      // The same claim again (a successor scheduler, or a redelivery): not sent twice.
      confirming.tell(
          new CronAgent.DeliverAll(List.of(d), at.toEpochMilli(), notAfter, reports.ref()));
      assertEquals("already", reports.receiveMessage().reports().get(0).outcome());
      named.expectNoMessage(Duration.ofMillis(300));
    }
  }

  /** The test's recipients: the probe {@code named} as "target", and {@code group}'s members. */
  private CronAgent.Recipients recipients(List<ActorRef<CronTick>> group) {
    return new CronAgent.Recipients() {
      @Override
      public String self() {
        return SELF;
      }

      @Override
      public Optional<ActorRef<CronTick>> named(String name) {
        return name.equals("target") ? Optional.of(named.ref()) : Optional.empty();
      }

      @Override
      public List<ActorRef<CronTick>> localMembers(String g) {
        return g.equals("group") ? group : List.of();
      }

      @Override
      public Optional<ActorRef<CronTick>> pick(String g) {
        return Optional.empty();
      }
    };
  }

  @Test
  void ticksHandedOverEarlyLeaveAtTheirInstantNotBefore() {
    Instant at = T0.plusMillis(100);
    agent.tell(all(at, deliver("j", at, "target", null, CronScope.CLUSTER, 0)));
    // A tick due now to an unknown target: once its report is back, the agent has set its timer
    // for the first (its mailbox is in order), so the clock may move.
    agent.tell(all(T0, deliver("sync", T0, "nobody", null, CronScope.CLUSTER, 0)));
    assertEquals("sync", report().job());
    advance(Duration.ofMillis(99));
    named.expectNoMessage(Duration.ofMillis(300));

    advance(Duration.ofMillis(1));
    CronTick tick = named.receiveMessage(Duration.ofSeconds(10));
    assertEquals("j", tick.job());
    assertEquals(at, tick.scheduledAt());
    assertEquals(7, tick.fencingToken());
    assertEquals("j@" + at, tick.idempotencyKey());
    assertEquals(Optional.empty(), tick.replyTo());
    CronAgent.Delivered delivered = report();
    assertEquals("delivered", delivered.outcome());
    assertEquals("*", delivered.node());
    assertEquals(1, fires("j", "delivered"));
    assertEquals(1, fires("sync", "failed"));
    var lateness = meters.get(CronMeters.LATENESS).tag("job", "j").timer();
    assertEquals(1, lateness.count());
    assertEquals(0, lateness.totalTime(TimeUnit.MILLISECONDS), "left at its instant");
  }

  @Test
  void ticksThatCouldOnlyLeaveAfterTheirDeadlineAreReportedMissedNotSent() {
    Instant at = T0.minusSeconds(5); // this JVM stalled for 5 s
    agent.tell(all(at, deliver("late", at, "target", null, CronScope.CLUSTER, 0)));
    CronAgent.Delivered missed = report();
    assertEquals("missed", missed.outcome());
    assertTrue(missed.detail().contains("not sent"), missed.detail());
    named.expectNoMessage(Duration.ofMillis(300));
    assertEquals(1, fires("late", "missed"));
    assertEquals(
        1,
        meters
            .get(CronMeters.MISSES)
            .tag("job", "late")
            .tag("reason", "stalled")
            .counter()
            .count());
    assertTrue(meters.find(CronMeters.LATENESS).timers().isEmpty(), "nothing left late");
  }

  @Test
  void aNodeJobReachesEveryLocalMemberAndACompletionIsAwaited() {
    Instant at = T0;
    agent.tell(all(at, deliver("node-job", at, null, "group", CronScope.NODE, 5_000)));
    CronTick a = memberA.receiveMessage(Duration.ofSeconds(10));
    CronTick b = memberB.receiveMessage(Duration.ofSeconds(10));
    assertEquals(a.idempotencyKey(), b.idempotencyKey());
    reports.expectNoMessage(Duration.ofMillis(200)); // waits for both

    a.replyTo().orElseThrow().tell(new CronDone(a.idempotencyKey(), true));
    reports.expectNoMessage(Duration.ofMillis(200));
    b.replyTo().orElseThrow().tell(new CronDone(b.idempotencyKey(), true));
    CronAgent.Delivered completed = report();
    assertEquals("completed", completed.outcome());
    assertEquals(1, fires("node-job", "completed"), "one fire per delivery, not per recipient");
    assertEquals(SELF, completed.node());
  }

  @Test
  void aCompletionThatNeverComesIsAFailureAfterTheTimeout() {
    agent.tell(all(T0, deliver("slow", T0, "target", null, CronScope.CLUSTER, 2_000)));
    named.receiveMessage(Duration.ofSeconds(10));
    reports.expectNoMessage(Duration.ofMillis(200));
    advance(Duration.ofMillis(2_000));
    CronAgent.Delivered failed = report();
    assertEquals("failed", failed.outcome());
    assertTrue(failed.detail().contains("no CronDone"), failed.detail());
  }

  @Test
  void anUnknownTargetIsAFailureNamingIt() {
    agent.tell(all(T0, deliver("lost", T0, "nobody", null, CronScope.CLUSTER, 0)));
    CronAgent.Delivered failed = report();
    assertEquals("failed", failed.outcome());
    assertTrue(failed.detail().contains("[nobody]"), failed.detail());
  }

  @Test
  void aFailedDeliveryIsLoggedWithTheNodeTheJobAndTheInstantBesidesPekkosKeys() {
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    List<Map<String, String>> lines = new CopyOnWriteArrayList<>();
    AppenderBase<ILoggingEvent> capture =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            if (event.getFormattedMessage().startsWith("Cron: [lost]")) {
              lines.add(Map.copyOf(event.getMDCPropertyMap())); // read on the logging thread
            }
          }
        };
    capture.start();
    root.addAppender(capture);
    try {
      ActorRef<CronAgent.Command> onNode =
          kit.spawn(
              CronLogs.onNode(
                  CronAgent.Command.class,
                  "node-1",
                  CronAgent.create(
                      recipients(List.of()),
                      null,
                      CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext()),
                      clock,
                      Duration.ofSeconds(30),
                      new CronMeters(meters))));
      onNode.tell(all(T0, deliver("lost", T0, "nobody", null, CronScope.CLUSTER, 0)));
      assertEquals("failed", report().outcome());
      Eventually.awaitCondition(
          Duration.ofSeconds(5), "the failure logged", () -> !lines.isEmpty());
      Map<String, String> mdc = lines.get(0);
      assertEquals("node-1", mdc.get(CronLogs.NODE), mdc.toString());
      assertEquals("lost", mdc.get(CronLogs.JOB), mdc.toString());
      assertEquals("2026-03-02T10:00:00Z", mdc.get(CronLogs.INSTANT), mdc.toString());
      assertTrue(mdc.containsKey("pekkoSource") && mdc.containsKey("pekkoAddress"), mdc.toString());
    } finally {
      root.detachAppender(capture);
    }
  }
}
