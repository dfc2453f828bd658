package dev.troupe.cron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.internal.CronMeters;
import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Cron on a real 3-node in-JVM cluster: placement on the ring, NODE scope, the API, bad input. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class CronIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(40);
  private static final WorkerGroup<CronTick> TICKS = WorkerGroup.of("cron-ticks", CronTick.class);

  /** A tick as a target saw it. */
  private record Seen(Address node, CronTick tick) {}

  private static final Queue<Seen> SEEN = new ConcurrentLinkedQueue<>();

  // The application's registry, on every node (attached after the start: the node's composite
  // passes on the meters registered before too); the node tag tells the nodes apart.
  private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(
          3,
          "troupe.storage.url = \""
              + TestDatabases.freshH2Url()
              + "\"\n"
              + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
              + " lease-duration = 4s }\n"
              + "troupe.cron.jobs = [ { name = declared, spec = \"* * * * * *\","
              + " target-group = cron-ticks, scope = node } ]");

  private static Behavior<CronTick> recorder(Address node) {
    return Behaviors.receiveMessage(
        tick -> {
          SEEN.add(new Seen(node, tick));
          tick.replyTo().ifPresent(r -> r.tell(new CronDone(tick.idempotencyKey(), true)));
          return Behaviors.same();
        });
  }

  private static void startCron(TroupeNode node) {
    TroupeNode.attach(node.system(), METERS);
    Cron.get(node);
    ActorRef<CronTick> recorder =
        node.system().systemActorOf(recorder(node.address()), "cron-recorder", Props.empty());
    await(node.registry().register(TICKS, recorder));
    await(node.addressBook().register("cron-target-" + node.address().port().get(), recorder));
  }

  @BeforeAll
  void startCronOnEveryNode() {
    cluster.get().liveNodes().forEach(CronIT::startCron);
  }

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  /** A counter's sum over the nodes. */
  private static double count(Search search) {
    return search.counters().stream().mapToDouble(Counter::count).sum();
  }

  private static double fires(String job, String outcome) {
    return count(METERS.find(CronMeters.FIRES).tag("job", job).tag("outcome", outcome));
  }

  private static List<Seen> seen(String job) {
    return SEEN.stream().filter(s -> s.tick().job().equals(job)).toList();
  }

  /** Ticks per (node, instant) of {@code job}. */
  private static Map<String, Long> perNodeAndInstant(String job) {
    return seen(job).stream()
        .collect(
            Collectors.groupingBy(
                s -> s.node() + " " + s.tick().scheduledAt(), Collectors.counting()));
  }

  private static Map<Instant, Long> perInstant(String job) {
    return seen(job).stream()
        .collect(Collectors.groupingBy(s -> s.tick().scheduledAt(), Collectors.counting()));
  }

  private static JobStatus status(Cron cron, String job) {
    return await(cron.jobs()).stream()
        .filter(j -> j.name().equals(job))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no job " + job));
  }

  @Test
  @Order(1)
  void aClusterJobFiresOncePerInstantOnTheRingOwnerOfItsName() {
    Cron cron = Cron.get(cluster.get().node(1));
    await(
        cron.schedule(
            CronJob.builder("cluster-every-second")
                .spec("* * * * * *")
                .targetGroup(TICKS)
                .build()));
    Eventually.awaitCondition(TIMEOUT, "5 ticks", () -> seen("cluster-every-second").size() >= 5);

    Address owner = cluster.get().node(0).addressBook().pickNode("cluster-every-second");
    for (Seen s : seen("cluster-every-second")) {
      assertEquals(owner, s.node(), "delivered on the ring owner");
      assertEquals("cluster-every-second@" + s.tick().scheduledAt(), s.tick().idempotencyKey());
      assertEquals(0, s.tick().scheduledAt().getNano() % 1_000_000_000, "on a whole second");
    }
    perInstant("cluster-every-second")
        .forEach((at, n) -> assertEquals(1L, n, "ticks for the instant " + at));
    assertEquals(Optional.of(owner), status(cron, "cluster-every-second").owner());
    await(cron.unschedule("cluster-every-second"));

    int ticks = seen("cluster-every-second").size();
    Eventually.awaitCondition( // counted right after the send
        TIMEOUT, "a fire per tick", () -> fires("cluster-every-second", "delivered") >= ticks);
    assertTrue(
        count(METERS.find(CronMeters.CLAIMS).tag("job", "cluster-every-second")) >= ticks,
        "claims");
    List<Timer> lateness =
        List.copyOf(METERS.find(CronMeters.LATENESS).tag("job", "cluster-every-second").timers());
    assertEquals(1, lateness.size(), "recorded on the owner only: " + lateness);
    assertTrue(lateness.get(0).count() >= ticks, "a lateness per tick sent");
    List<Gauge> active = List.copyOf(METERS.find(CronMeters.ACTIVE).gauges());
    assertEquals(3, active.size(), "a gauge per node");
    assertEquals(
        1,
        active.stream().mapToDouble(Gauge::value).sum(),
        "exactly one node schedules: " + active);
    assertTrue(count(METERS.find(CronMeters.TAKEOVERS)) >= 1);
  }

  @Test
  @Order(2)
  void aNodeJobFromTheConfigurationFiresOnEveryNodeOncePerInstant() {
    Eventually.awaitCondition(
        TIMEOUT,
        "ticks on 3 nodes for 3 instants",
        () -> {
          Map<Instant, Long> per = perInstant("declared");
          return per.values().stream().filter(n -> n == 3).count() >= 3;
        });
    perNodeAndInstant("declared").forEach((k, n) -> assertEquals(1L, n, "ticks for " + k));
    Set<Address> nodes = seen("declared").stream().map(Seen::node).collect(Collectors.toSet());
    assertEquals(
        Set.copyOf(cluster.get().liveNodes().stream().map(TroupeNode::address).toList()), nodes);
    JobStatus declared = status(Cron.get(cluster.get().node(2)), "declared");
    assertEquals(Optional.empty(), declared.owner(), "a NODE job has no single owner");
    assertTrue(declared.lastFire().isPresent());
  }

  @Test
  @Order(3)
  void aJobAwaitingCompletionRecordsItsOutcomeAndShowsInTheStatus() {
    Cron cron = Cron.get(cluster.get().node(2));
    String target = "cron-target-" + cluster.get().node(1).address().port().get();
    await(
        cron.schedule(
            CronJob.builder("awaited")
                .spec("* * * * * *")
                .target(target)
                .awaitCompletion(Duration.ofSeconds(5))
                .build()));
    Eventually.awaitAssert(
        TIMEOUT,
        "completed runs in the history",
        () -> {
          JobStatus status = status(cron, "awaited");
          assertTrue(
              status.recentRuns().stream().filter(r -> r.outcome().equals("completed")).count()
                  >= 2,
              status.recentRuns().toString());
          assertTrue(status.nextFire().isPresent());
          assertTrue(status.lastFire().isPresent());
          assertEquals("UTC", status.zone().getId());
          assertTrue(!status.paused());
        });
    for (Seen s : seen("awaited")) {
      assertEquals(cluster.get().node(1).address(), s.node(), "the named target's node");
      assertTrue(s.tick().replyTo().isPresent());
    }
    assertTrue(fires("awaited", "completed") >= 2, "completions counted by outcome");
    assertEquals(0, fires("awaited", "delivered"), "awaited ticks end completed or failed");

    await(cron.pause("awaited"));
    JobStatus paused = status(cron, "awaited");
    assertTrue(paused.paused());
    assertEquals(Optional.empty(), paused.nextFire());
    int before = seen("awaited").size();
    await(cron.triggerNow("awaited"));
    Eventually.awaitCondition(
        TIMEOUT, "the triggered tick", () -> seen("awaited").size() == before + 1);
    await(cron.unschedule("awaited"));
  }

  @Test
  @Order(4)
  void badInputIsRefusedNamingTheValue() {
    Cron cron = Cron.get(cluster.get().node(0));
    CompletionStage<?> unknown =
        cron.schedule(CronJob.builder("x").spec("* * * * *").target("no-such-actor").build());
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> unknown.toCompletableFuture().get());
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("no-such-actor"), e.getCause().getMessage());

    assertMessage("spec is required", () -> CronJob.builder("x").target("t").build());
    assertMessage("[]", () -> CronJob.builder("x").spec("").target("t").build());
    assertMessage("minute", () -> CronJob.builder("x").spec("61 * * * *").target("t").build());
    assertMessage("minute", () -> CronJob.builder("x").spec("*/0 * * * *").target("t").build());
    assertMessage("hour", () -> CronJob.builder("x").spec("0 25 * * *").target("t").build());
    assertMessage("3 field(s)", () -> CronJob.builder("x").spec("* * *").target("t").build());
    assertMessage(
        "at most", () -> CronJob.builder("x").spec("*".repeat(10_240)).target("t").build());
    assertMessage("never", () -> CronJob.builder("x").spec("0 0 30 2 *").target("t").build());
    assertMessage("target", () -> CronJob.builder("x").spec("* * * * *").build());
    assertMessage(
        "targetGroup",
        () -> CronJob.builder("x").spec("* * * * *").scope(CronScope.NODE).target("t").build());
    assertMessage("name", () -> CronJob.builder(" "));
    assertMessage("[no-such-job]", () -> await(cron.unschedule("no-such-job")));

    // the scheduler keeps running
    await(
        cron.schedule(
            CronJob.builder("after-bad-input").spec("* * * * * *").targetGroup(TICKS).build()));
    Eventually.awaitCondition(TIMEOUT, "a tick", () -> !seen("after-bad-input").isEmpty());
    await(cron.unschedule("after-bad-input"));
  }

  private static void assertMessage(String expected, Runnable call) {
    Throwable e = assertThrows(Throwable.class, call::run);
    while (e.getCause() != null && !(e instanceof IllegalArgumentException)) {
      e = e.getCause();
    }
    assertTrue(e.getMessage() != null && e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  @Order(5)
  void aClusterJobMovesToTheNewRingOwnerWhenItsNodeLeaves() {
    // A job whose ring owner is not the oldest node (the scheduler's), so that only placement
    // moves.
    TroupeNode oldest = cluster.get().node(0);
    String job = null;
    for (int i = 0; job == null; i++) {
      if (!oldest.addressBook().pickNode("moving-" + i).equals(oldest.address())) {
        job = "moving-" + i;
      }
    }
    String name = job;
    Cron cron = Cron.get(oldest);
    await(cron.schedule(CronJob.builder(name).spec("* * * * * *").targetGroup(TICKS).build()));
    Eventually.awaitCondition(TIMEOUT, "ticks", () -> seen(name).size() >= 2);
    Address first = seen(name).get(0).node();
    int index = cluster.get().nodes().stream().map(TroupeNode::address).toList().indexOf(first);
    cluster.get().leave(index);
    cluster.get().awaitRemoved(first);

    int before = seen(name).size();
    Eventually.awaitCondition(
        TIMEOUT, "ticks after the leave", () -> seen(name).size() >= before + 3);
    Address now = seen(name).get(seen(name).size() - 1).node();
    assertNotEquals(first, now);
    assertEquals(oldest.addressBook().pickNode(name), now);
    perInstant(name).forEach((at, n) -> assertEquals(1L, n, "ticks for the instant " + at));
    await(cron.unschedule(name));
  }

  @Test
  @Order(6)
  void scheduledJobsSurviveAFullClusterRestart() {
    String url = TestDatabases.freshH2Url();
    String config = "troupe.storage.url = \"" + url + "\"\n" + TestCluster.TEST_CONFIG;
    try (TroupeNode first = TroupeNode.start(NodeOptions.builder().config(config).build())) {
      await(first.whenUp());
      startCron(first);
      await(
          Cron.get(first)
              .schedule(
                  CronJob.builder("survivor").spec("0 0 4 * * *").targetGroup(TICKS).build()));
    }
    try (TroupeNode second = TroupeNode.start(NodeOptions.builder().config(config).build())) {
      await(second.whenUp());
      startCron(second);
      Map<String, JobStatus> jobs = new HashMap<>();
      await(Cron.get(second).jobs()).forEach(j -> jobs.put(j.name(), j));
      assertTrue(jobs.containsKey("survivor"), jobs.keySet().toString());
      assertEquals("0 0 4 * * *", jobs.get("survivor").spec());
      assertTrue(jobs.get("survivor").nextFire().isPresent());
    }
  }
}
