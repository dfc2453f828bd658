package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.JobRun;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import dev.troupe.cron.SchedulerEvent;
import dev.troupe.cron.internal.CronStore.NotRun;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ManualClock;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's timing logic on Pekko's ManualTime and a manual clock, with a probe as the cron
 * agent and the claims in an in-memory H2 database.
 */
final class CronSchedulerTest {
  private static final String NODE = "pekko://troupe@127.0.0.1:1";
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

  /** A clock the test moves, together with ManualTime. */
  private ActorTestKit kit;

  private ManualTime time;
  private ManualClock clock;
  private Storage storage;
  private CronStore store;
  private TestProbe<CronAgent.Command> agent;
  private CronSettings settings;
  private SimpleMeterRegistry meters;

  @BeforeEach
  void start() {
    meters = new SimpleMeterRegistry();
    kit = ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
    time = ManualTime.get(kit.system());
    clock = new ManualClock(T0);
    storage = Storage.fromUrl(TestDatabases.freshH2Url());
    store = new CronStore(storage, "test", "test");
    agent = kit.createTestProbe();
    settings =
        CronSettings.fromConfig(
            ConfigFactory.parseString("troupe.cron { clock = local, timer = pekko }")
                .withFallback(ConfigFactory.load()));
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    storage.close();
  }

  private ActorRef<CronScheduler.Command> scheduler() {
    CronTimer timer = CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext());
    return kit.spawn(
        CronScheduler.create(
            settings,
            store,
            clock,
            timer,
            () -> Map.of(NODE, agent.ref()),
            ctx -> () -> true,
            new CronMeters(meters)));
  }

  private double count(String meter, String job, String tagKey, String tagValue) {
    var search = meters.find(meter).tag("job", job);
    if (tagKey != null) {
      search = search.tag(tagKey, tagValue);
    }
    var counter = search.counter();
    return counter == null ? 0 : counter.count();
  }

  private double misses(String job, String reason) {
    return count(CronMeters.MISSES, job, "reason", reason);
  }

  private double active() {
    return meters.get(CronMeters.ACTIVE).gauge().value();
  }

  /** Moves the clock and ManualTime forward together. */
  private void advance(Duration d) {
    clock.advance(d);
    time.timePasses(d);
  }

  private static JobDefinition job(String name, String spec) {
    return new JobDefinition(
        name,
        spec,
        "UTC",
        CronScope.CLUSTER,
        "target",
        null,
        MisfirePolicy.FIRE_ONCE,
        60_000,
        OverlapPolicy.SKIP,
        0,
        0);
  }

  private static JobDefinition awaiting(String name, String spec, OverlapPolicy overlap) {
    JobDefinition d = job(name, spec);
    return with(d, d.misfire(), d.catchUpMillis(), overlap, 30_000);
  }

  private void schedule(ActorRef<CronScheduler.Command> scheduler, JobDefinition job) {
    TestProbe<StatusReply<Done>> reply = kit.createTestProbe();
    scheduler.tell(new CronScheduler.Schedule(job, reply.ref()));
    assertTrue(reply.receiveMessage(Duration.ofSeconds(10)).isSuccess());
  }

  private List<JobRun> history(String job) {
    return store.recentRuns(100).getOrDefault(job, List.of());
  }

  private String outcome(String job, Instant at) {
    return history(job).stream()
        .filter(r -> r.scheduledAt().equals(at))
        .map(JobRun::outcome)
        .findFirst()
        .orElse(null);
  }

  private void awaitOutcome(String job, Instant at, String expected) {
    Eventually.awaitAssert(
        Duration.ofSeconds(10),
        job + " at " + at + " is " + expected,
        () -> assertEquals(expected, outcome(job, at)));
  }

  private CronAgent.DeliverAll expectDeliverAll() {
    CronAgent.DeliverAll all =
        agent.expectMessageClass(CronAgent.DeliverAll.class, Duration.ofSeconds(10));
    assertEquals(1, all.deliveries().size(), all.toString());
    return all;
  }

  private CronAgent.Deliver expectDeliver() {
    return expectDeliverAll().deliveries().get(0);
  }

  private static void report(CronAgent.DeliverAll all, String outcome) {
    CronAgent.Deliver d = all.deliveries().get(0);
    all.replyTo()
        .tell(
            new CronAgent.Reports(
                List.of(
                    new CronAgent.Delivered(
                        d.job(), d.scheduledAtMillis(), "*", outcome, "test"))));
  }

  @Test
  void aTickIsClaimedAheadAndHandedToTheAgentWithItsInstantAndDeadline() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, job("every-second", "* * * * * *"));

    Instant first = T0.plusSeconds(1);
    advance(Duration.ofMillis(300)); // not yet within claim-ahead (100 ms) of the instant
    agent.expectNoMessage(Duration.ofMillis(300));
    assertNull(outcome("every-second", first));

    advance(Duration.ofMillis(100)); // 100 ms before the instant: claimed, handed over
    CronAgent.DeliverAll all = expectDeliverAll();
    assertEquals("claimed", outcome("every-second", first));
    assertEquals(first.toEpochMilli(), all.atMillis());
    assertEquals(first.plusSeconds(1).toEpochMilli(), all.notAfterMillis()); // misfire-threshold
    CronAgent.Deliver d = all.deliveries().get(0);
    assertEquals("every-second", d.job());
    assertEquals(first.toEpochMilli(), d.scheduledAtMillis());
    assertEquals("every-second@" + first, d.key());
    assertTrue(d.token() > 0);
    report(all, "delivered");
    awaitOutcome("every-second", first, "delivered");

    advance(Duration.ofSeconds(1));
    CronAgent.Deliver second = expectDeliver();
    assertEquals(first.plusSeconds(1).toEpochMilli(), second.scheduledAtMillis());
    assertEquals(d.token(), second.token());
  }

  @Test
  void aSchedulerThatNoLongerTrustsItsLeaseClaimsNothingAndSaysSoOnTheEventStream() {
    TestProbe<SchedulerEvent> events = kit.createTestProbe();
    kit.system()
        .eventStream()
        .tell(new EventStream.Subscribe<>(SchedulerEvent.class, events.ref()));
    AtomicBoolean leased = new AtomicBoolean(true);
    clock.set(T0.plusMillis(500));
    CronTimer timer = CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext());
    ActorRef<CronScheduler.Command> scheduler =
        kit.spawn(
            CronScheduler.create(
                settings,
                store,
                clock,
                timer,
                () -> Map.of(NODE, agent.ref()),
                ctx -> leased::get,
                new CronMeters(meters)));
    SchedulerEvent tookOver = events.expectMessageClass(SchedulerEvent.class);
    assertEquals(SchedulerEvent.Kind.TOOK_OVER, tookOver.kind());
    assertEquals(1, meters.get(CronMeters.TAKEOVERS).counter().count());
    assertEquals(1, active(), "this node schedules");
    schedule(scheduler, job("leased", "* * * * * *"));

    advance(Duration.ofMillis(400)); // 10:00:01 is within claim-ahead: claimed under the lease
    SchedulerEvent claiming = events.expectMessageClass(SchedulerEvent.class);
    assertEquals(SchedulerEvent.Kind.CLAIMING, claiming.kind());
    assertEquals(tookOver.token(), claiming.token());
    assertEquals(1, claiming.instants());
    report(expectDeliverAll(), "delivered");
    assertEquals(1, count(CronMeters.CLAIMS, "leased", null, null));

    leased.set(false); // the lock's last good heartbeat is too old: a successor may take over
    advance(Duration.ofSeconds(1)); // 10:00:02 falls due
    agent.expectNoMessage(Duration.ofMillis(300));
    events.expectNoMessage(Duration.ofMillis(100));
    assertNull(outcome("leased", T0.plusSeconds(2)), "not claimed without the lease");

    leased.set(true); // trusted again (the heartbeat caught up): the retry claims it
    advance(Duration.ofSeconds(1));
    assertEquals(
        SchedulerEvent.Kind.CLAIMING, events.expectMessageClass(SchedulerEvent.class).kind());
    long retried = T0.plusSeconds(2).toEpochMilli();
    agent.fishForMessage(
        Duration.ofSeconds(10),
        m ->
            m instanceof CronAgent.DeliverAll all && all.atMillis() == retried
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());

    kit.stop(scheduler);
    List<SchedulerEvent> stopped =
        events.fishForMessage(
            Duration.ofSeconds(5),
            e ->
                e.kind() == SchedulerEvent.Kind.STOPPED
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    assertEquals(tookOver.token(), stopped.get(stopped.size() - 1).token());
    assertEquals(0, active(), "stopped: no longer the scheduler");
    assertEquals(0, misses("leased", CronMeters.CLAIM_FAILED), "retried in its window");
  }

  @Test
  void aSchedulerStartedWithoutTheLeaseTakesNoTokenUntilItHoldsIt() {
    AtomicBoolean leased = new AtomicBoolean(false);
    clock.set(T0.plusMillis(500));
    long before = store.takeOver();
    CronTimer timer = CronTimer.pekko(kit.system().scheduler(), kit.system().executionContext());
    ActorRef<CronScheduler.Command> scheduler =
        kit.spawn(
            CronScheduler.create(
                settings,
                store,
                clock,
                timer,
                () -> Map.of(NODE, agent.ref()),
                ctx -> leased::get));
    TestProbe<StatusReply<Done>> reply = kit.createTestProbe();
    scheduler.tell(new CronScheduler.Schedule(job("waiting", "* * * * * *"), reply.ref()));
    time.timePasses(Duration.ofSeconds(1));
    reply.expectNoMessage(Duration.ofMillis(300)); // stashed: no scheduler took over yet
    assertEquals(before + 1, store.takeOver(), "no token was taken without the lease");

    leased.set(true);
    time.timePasses(Duration.ofMillis(200));
    assertTrue(reply.receiveMessage(Duration.ofSeconds(10)).isSuccess());
  }

  @Test
  void aRunWithoutAReportIsRecordedAsFailedAfterTheDeliveryTimeout() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, job("unanswered", "0 * * * * *"));
    advance(Duration.ofMillis(59_500)); // 10:01:00
    expectDeliver();
    advance(settings.deliveryTimeout().plusMillis(100));
    awaitOutcome("unanswered", T0.plusSeconds(60), "failed");
    assertEquals(1, count(CronMeters.FIRES, "unanswered", "outcome", CronMeters.UNREPORTED));
  }

  @Test
  void aNewSchedulerFiresTheLatestMissedInstantOnceAndRecordsTheOthersAsMissed() {
    // The previous scheduler recorded 10:00 and died; the new one starts at 10:03:20.
    long oldToken = store.takeOver();
    store.notRun(List.of(new NotRun("catch-up", T0, "*", "delivered", "old")), oldToken);
    store.notRun(List.of(new NotRun("skip", T0, "*", "delivered", "old")), oldToken);
    store.saveJob(job("catch-up", "* * * * *"), false);
    store.saveJob(
        misfire(job("skip", "* * * * *"), MisfirePolicy.SKIP, 60_000, OverlapPolicy.SKIP), false);
    clock.set(T0.plusSeconds(200));

    scheduler();
    CronAgent.Deliver d = expectDeliver();
    assertEquals("catch-up", d.job());
    assertEquals(T0.plusSeconds(180).toEpochMilli(), d.scheduledAtMillis());
    agent.expectNoMessage(Duration.ofMillis(300));

    awaitOutcome("catch-up", T0.plusSeconds(60), "missed");
    awaitOutcome("catch-up", T0.plusSeconds(120), "missed");
    awaitOutcome("catch-up", T0.plusSeconds(180), "claimed");
    awaitOutcome("skip", T0.plusSeconds(60), "missed");
    awaitOutcome("skip", T0.plusSeconds(120), "missed");
    awaitOutcome("skip", T0.plusSeconds(180), "missed");
    assertTrue(
        history("skip").get(0).detail().contains("misfire policy SKIP"),
        history("skip").get(0).detail());
    assertEquals(2, misses("catch-up", FirePolicy.BEYOND_CATCH_UP), "80 s and 140 s late");
    assertEquals(3, misses("skip", FirePolicy.LATE_SKIP));
    assertEquals(1, count(CronMeters.CLAIMS, "catch-up", null, null));
    assertEquals(0, count(CronMeters.CLAIMS, "skip", null, null));
  }

  private static JobDefinition catchUp(String name, String spec, long windowMillis) {
    return misfire(job(name, spec), MisfirePolicy.CATCH_UP, windowMillis, OverlapPolicy.ALLOW);
  }

  private static JobDefinition misfire(
      JobDefinition d, MisfirePolicy policy, long windowMillis, OverlapPolicy overlap) {
    return with(d, policy, windowMillis, overlap, d.awaitMillis());
  }

  private static JobDefinition with(
      JobDefinition d,
      MisfirePolicy policy,
      long windowMillis,
      OverlapPolicy overlap,
      long awaitMillis) {
    return new JobDefinition(
        d.name(),
        d.spec(),
        d.zone(),
        d.scope(),
        d.target(),
        d.targetGroup(),
        policy,
        windowMillis,
        overlap,
        awaitMillis,
        d.jitterMillis());
  }

  @Test
  void aNewSchedulerFiresEveryCatchUpInstantOfTheWindowInOrderAndRecordsOlderOnesAsMissed() {
    long oldToken = store.takeOver();
    store.notRun(List.of(new NotRun("backlog", T0, "*", "delivered", "old")), oldToken);
    store.saveJob(catchUp("backlog", "* * * * *", 130_000), false);
    clock.set(T0.plusSeconds(200)); // 10:01 is 140 s late, 10:02 80 s, 10:03 20 s

    scheduler();
    CronAgent.DeliverAll first = expectDeliverAll();
    CronAgent.DeliverAll second = expectDeliverAll();
    assertEquals(T0.plusSeconds(120).toEpochMilli(), first.atMillis());
    assertEquals(T0.plusSeconds(180).toEpochMilli(), second.atMillis());
    assertTrue(first.deliveries().get(0).confirm(), "CATCH_UP ticks are marked before they leave");
    agent.expectNoMessage(Duration.ofMillis(300));
    awaitOutcome("backlog", T0.plusSeconds(60), "missed");
    assertTrue(
        history("backlog").stream()
            .filter(r -> r.scheduledAt().equals(T0.plusSeconds(60)))
            .findFirst()
            .orElseThrow()
            .detail()
            .contains("beyond the catch-up window"));
    awaitOutcome("backlog", T0.plusSeconds(120), "claimed");
    awaitOutcome("backlog", T0.plusSeconds(180), "claimed");
  }

  @Test
  void aSuccessorDeliversThePredecessorsUndeliveredCatchUpClaimsAgainButNotTheMarkedOnes() {
    // The previous scheduler claimed 10:01 and 10:02 and died; a node marked 10:01 delivered.
    long oldToken = store.takeOver();
    store.saveJob(catchUp("each", "* * * * *", 300_000), false);
    store.claim(
        List.of(
            new CronStore.ClaimRequest("each", T0.plusSeconds(60), "*"),
            new CronStore.ClaimRequest("each", T0.plusSeconds(120), "*")),
        oldToken,
        null);
    assertTrue(store.markDelivering("each", T0.plusSeconds(60), "*"));
    assertTrue(!store.markDelivering("each", T0.plusSeconds(60), "*"), "marked once only");
    clock.set(T0.plusSeconds(130));

    scheduler();
    CronAgent.DeliverAll again = expectDeliverAll();
    assertEquals(T0.plusSeconds(120).toEpochMilli(), again.atMillis());
    assertTrue(again.deliveries().get(0).confirm());
    assertTrue(again.deliveries().get(0).token() > oldToken, "under the successor's token");
    agent.expectNoMessage(Duration.ofMillis(300));
    awaitOutcome("each", T0.plusSeconds(60), "delivered");
    report(again, "delivered");
    awaitOutcome("each", T0.plusSeconds(120), "delivered");
  }

  @Test
  void aCatchUpTickWithoutAReportIsDeliveredAgainWhileInItsWindow() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, catchUp("resend", "0 * * * * *", 60_000));
    advance(Duration.ofMillis(59_500)); // 10:01:00
    CronAgent.DeliverAll first = expectDeliverAll();
    advance(settings.deliveryTimeout().plusMillis(100));
    CronAgent.DeliverAll second = expectDeliverAll();
    assertEquals(first.atMillis(), second.atMillis(), "the same instant, again");
    // The agent that gets the second finds the instant marked by the first: "already".
    report(second, "already");
    report(first, "delivered");
    awaitOutcome("resend", T0.plusSeconds(60), "delivered");
    agent.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void overlapSkipNeverRunsTwiceAtOnceAndRecordsTheSkippedTicks() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, awaiting("slow", "* * * * * *", OverlapPolicy.SKIP));

    advance(Duration.ofMillis(500));
    CronAgent.DeliverAll first = expectDeliverAll();
    for (int i = 2; i <= 3; i++) {
      advance(Duration.ofSeconds(1));
      awaitOutcome("slow", T0.plusSeconds(i), "skipped");
    }
    agent.expectNoMessage(Duration.ofMillis(200));
    report(first, "completed");
    awaitOutcome("slow", T0.plusSeconds(1), "completed");

    advance(Duration.ofSeconds(1));
    assertEquals(T0.plusSeconds(4).toEpochMilli(), expectDeliver().scheduledAtMillis());
    assertEquals(2, misses("slow", FirePolicy.OVERLAP_SKIP));
  }

  @Test
  void overlapBufferOneRunsOneBufferedTickWhenTheRunEnds() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, awaiting("buffered", "* * * * * *", OverlapPolicy.BUFFER_ONE));

    advance(Duration.ofMillis(500));
    CronAgent.DeliverAll first = expectDeliverAll();
    advance(Duration.ofSeconds(1)); // 2 s: buffered
    advance(Duration.ofSeconds(1)); // 3 s: skipped, one is buffered already
    awaitOutcome("buffered", T0.plusSeconds(3), "skipped");
    agent.expectNoMessage(Duration.ofMillis(200));

    report(first, "completed");
    CronAgent.Deliver buffered = expectDeliver();
    assertEquals(T0.plusSeconds(2).toEpochMilli(), buffered.scheduledAtMillis());
    assertEquals(1, misses("buffered", FirePolicy.OVERLAP_BUFFER_FULL));
  }

  @Test
  void aSchedulerWhoseTokenWasTakenStopsWithoutFiring() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, job("fenced", "* * * * * *"));
    store.takeOver(); // a newer scheduler took over (this one was paused, say)

    TestProbe<Object> watcher = kit.createTestProbe();
    advance(Duration.ofMillis(500));
    watcher.expectTerminated(scheduler, Duration.ofSeconds(10));
    agent.expectNoMessage(Duration.ofMillis(200));
    assertNull(outcome("fenced", T0.plusSeconds(1)));
  }

  @Test
  void pauseResumeTriggerAndUnschedule() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    schedule(scheduler, job("managed", "* * * * * *"));
    TestProbe<StatusReply<Done>> reply = kit.createTestProbe();

    scheduler.tell(new CronScheduler.Pause("managed", reply.ref()));
    assertTrue(reply.receiveMessage().isSuccess());
    advance(Duration.ofSeconds(3));
    agent.expectNoMessage(Duration.ofMillis(300));
    CronScheduler.JobView paused = jobs(scheduler).get(0);
    assertTrue(paused.paused());
    assertNull(paused.nextFireMillis());
    assertEquals(NODE, paused.owner());

    scheduler.tell(new CronScheduler.TriggerNow("managed", reply.ref()));
    assertTrue(reply.receiveMessage(Duration.ofSeconds(10)).isSuccess());
    CronAgent.Deliver triggered = expectDeliver();
    assertEquals(T0.plusMillis(3500).toEpochMilli(), triggered.scheduledAtMillis());

    scheduler.tell(new CronScheduler.Resume("managed", reply.ref()));
    assertTrue(reply.receiveMessage().isSuccess());
    assertFalse(jobs(scheduler).get(0).paused());
    advance(Duration.ofMillis(500));
    assertEquals(T0.plusSeconds(4).toEpochMilli(), expectDeliver().scheduledAtMillis());

    scheduler.tell(new CronScheduler.Unschedule("managed", reply.ref()));
    assertTrue(reply.receiveMessage().isSuccess());
    advance(Duration.ofSeconds(2));
    agent.expectNoMessage(Duration.ofMillis(300));
    assertTrue(jobs(scheduler).isEmpty());
    assertTrue(store.jobs(new java.util.ArrayList<>()).isEmpty());

    scheduler.tell(new CronScheduler.Pause("managed", reply.ref()));
    StatusReply<Done> unknown = reply.receiveMessage();
    assertTrue(unknown.isError());
    assertTrue(unknown.getError().getMessage().contains("[managed]"));
  }

  @Test
  void badJobsAreRefusedNamingTheFieldAndTheSchedulerKeepsRunning() {
    clock.set(T0.plusMillis(500));
    ActorRef<CronScheduler.Command> scheduler = scheduler();
    TestProbe<StatusReply<Done>> reply = kit.createTestProbe();

    scheduler.tell(new CronScheduler.Schedule(job("bad", "*/0 * * * *"), reply.ref()));
    StatusReply<Done> refused = reply.receiveMessage();
    assertTrue(refused.isError());
    assertTrue(refused.getError().getMessage().contains("minute"), refused.getError().getMessage());

    JobDefinition badZone = job("bad-zone", "* * * * *");
    scheduler.tell(
        new CronScheduler.Schedule(
            new JobDefinition(
                badZone.name(),
                badZone.spec(),
                "Mars/Olympus",
                badZone.scope(),
                badZone.target(),
                null,
                badZone.misfire(),
                badZone.catchUpMillis(),
                badZone.overlap(),
                0,
                0),
            reply.ref()));
    assertTrue(reply.receiveMessage().getError().getMessage().contains("Mars/Olympus"));

    schedule(scheduler, job("good", "* * * * * *"));
    advance(Duration.ofMillis(500));
    assertEquals("good", expectDeliver().job());
  }

  private List<CronScheduler.JobView> jobs(ActorRef<CronScheduler.Command> scheduler) {
    TestProbe<StatusReply<CronScheduler.JobViews>> reply = kit.createTestProbe();
    scheduler.tell(new CronScheduler.GetJobs(reply.ref()));
    return reply.receiveMessage(Duration.ofSeconds(10)).getValue().jobs();
  }
}
