package dev.troupe.core;

import static dev.troupe.testkit.Stages.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.troupe.testkit.Bursts;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

/**
 * Issue 15 point 7: a burst of 10 000 registrations on one node of a 3-node cluster in one JVM, in
 * the worker registry and in the address book. Every node sees all of them, and none once their
 * actors stop; meanwhile no node logs a delayed heartbeat and no node sees another unreachable
 * (checked per test, from its start to its end; the class prints what it saw over its whole run).
 *
 * <p>The timeouts bound each phase so that a stuck test ends; they are not speed goals (those are
 * the benchmark's, in {@code bench}). Size and window: {@code -Dtroupe.scale.n=N} (default 10 000)
 * and {@code -Dtroupe.scale.in-flight=N} (default 2 000 calls in flight).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class RegistryScaleIT {
  private static final int N = Integer.getInteger("troupe.scale.n", 10_000);
  private static final int IN_FLIGHT = Integer.getInteger("troupe.scale.in-flight", 2_000);
  private static final int GROUPS = 100;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final CapturedLog log = new CapturedLog();
  private final List<HealthWatch> watches = new ArrayList<>();
  private TestCluster cluster;
  private int heartbeatMark;
  private final Map<HealthWatch, Integer> unreachableMarks = new HashMap<>();

  /**
   * By hand, {@code -Dtroupe.scale.histogram=true}: prints the top of this JVM's class histogram
   * (three nodes' worth) once every node shows the burst, for the bytes per entry.
   */
  private static void printHistogramIfAsked(String what) {
    if (!Boolean.getBoolean("troupe.scale.histogram")) {
      return;
    }
    try {
      Process jcmd =
          new ProcessBuilder(
                  "jcmd", Long.toString(ProcessHandle.current().pid()), "GC.class_histogram")
              .redirectErrorStream(true)
              .start();
      String out = new String(jcmd.getInputStream().readAllBytes());
      jcmd.waitFor();
      out.lines().limit(45).forEach(l -> System.out.println("histogram " + what + ": " + l));
    } catch (java.io.IOException e) {
      System.out.println("histogram " + what + ": jcmd failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Keeps the log events that mention a delayed heartbeat, from every node of this JVM. */
  private static final class CapturedLog extends AppenderBase<ILoggingEvent> {
    final List<String> heartbeatWarnings = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      String message = event.getFormattedMessage();
      if (isHeartbeatWarning(message)) {
        // Up to the ms figures; the rest is Pekko's advice.
        String shown = message.length() > 160 ? message.substring(0, 160) + "..." : message;
        heartbeatWarnings.add(event.getLevel() + " " + event.getLoggerName() + " " + shown);
      }
    }

    /**
     * Pekko's "Scheduled sending of heartbeat was delayed" (cluster heartbeat sender) and
     * "heartbeat interval is growing too large" (failure detector): a node fell behind.
     */
    static boolean isHeartbeatWarning(String message) {
      String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
      return m.contains("heartbeat") && (m.contains("delayed") || m.contains("too large"));
    }
  }

  /** What one node saw of the cluster: the Up members of its initial state, any unreachable. */
  private static final class HealthWatch {
    final String node;
    final Set<Address> initiallyUp = ConcurrentHashMap.newKeySet();
    final List<String> unreachable = new CopyOnWriteArrayList<>();

    HealthWatch(String node) {
      this.node = node;
    }

    Behavior<ClusterEvent.ClusterDomainEvent> behavior() {
      return Behaviors.setup(
          ctx -> {
            // Reachability first: once the member events' initial state arrives, both are active.
            Cluster.get(ctx.getSystem())
                .subscriptions()
                .tell(
                    Subscribe.create(
                        ctx.getSelf().<ClusterEvent.ReachabilityEvent>narrow(),
                        ClusterEvent.ReachabilityEvent.class));
            Cluster.get(ctx.getSystem())
                .subscriptions()
                .tell(
                    Subscribe.create(
                        ctx.getSelf().<ClusterEvent.MemberEvent>narrow(),
                        ClusterEvent.MemberEvent.class));
            return Behaviors.receiveMessage(
                event -> {
                  if (event instanceof ClusterEvent.UnreachableMember u) {
                    unreachable.add(u.member().address() + " at " + java.time.Instant.now());
                  } else if (event instanceof ClusterEvent.MemberUp up) {
                    initiallyUp.add(up.member().address());
                  }
                  return Behaviors.same();
                });
          });
    }
  }

  /** Owns a test's actors as its children; stopping it stops them all. */
  private static final class Owner {
    private Owner() {}

    sealed interface Command {}

    /** Spawns {@code count} echo workers named {@code prefix + i} and replies with their refs. */
    record Spawn(String prefix, int count, ActorRef<List<ActorRef<EchoWorker.Command>>> replyTo)
        implements Command {}

    enum Stop implements Command {
      INSTANCE
    }

    static Behavior<Command> create() {
      return Behaviors.setup(
          ctx ->
              Behaviors.receive(Command.class)
                  .onMessage(
                      Spawn.class,
                      cmd -> {
                        List<ActorRef<EchoWorker.Command>> refs = new ArrayList<>(cmd.count());
                        for (int i = 0; i < cmd.count(); i++) {
                          String name = cmd.prefix() + i;
                          refs.add(ctx.spawn(EchoWorker.create(name), name));
                        }
                        cmd.replyTo().tell(refs);
                        return Behaviors.same();
                      })
                  .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                  .build());
    }
  }

  @BeforeAll
  void startCluster() {
    log.start();
    root().addAppender(log);
    cluster = TestCluster.start(3);
    Set<Address> all =
        cluster.liveNodes().stream().map(TroupeNode::address).collect(Collectors.toSet());
    for (TroupeNode node : cluster.liveNodes()) {
      HealthWatch watch = new HealthWatch(node.name());
      node.system().systemActorOf(watch.behavior(), "scale-health-watch", Props.empty());
      watches.add(watch);
      Eventually.awaitAssert(
          TIMEOUT,
          "the health watch on " + node.name() + " to get the initial members",
          () -> assertEquals(all, watch.initiallyUp, "initial Up members on " + node.name()));
    }
  }

  /** Each test checks the cluster's health from its own start on. */
  @BeforeEach
  void markHealth() {
    heartbeatMark = log.heartbeatWarnings.size();
    watches.forEach(watch -> unreachableMarks.put(watch, watch.unreachable.size()));
  }

  @AfterAll
  void stopCluster() {
    root().detachAppender(log);
    System.out.println("RegistryScaleIT: heartbeat warnings " + List.copyOf(log.heartbeatWarnings));
    for (HealthWatch watch : watches) {
      System.out.println(
          "RegistryScaleIT: " + watch.node + " saw unreachable " + List.copyOf(watch.unreachable));
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Test
  void tenThousandWorkersRegisteredInOneBurstReachEveryNodeAndDropOutWhenTheyStop() {
    TroupeNode home = cluster.node(0);
    ActorRef<Owner.Command> owner =
        home.system().systemActorOf(Owner.create(), "scale-worker-owner", Props.empty());
    List<ActorRef<EchoWorker.Command>> workers = spawn(home, owner, "scale-worker-");
    Map<String, Set<String>> expected = new HashMap<>();
    Map<String, Set<String>> none = new HashMap<>();
    for (int g = 0; g < GROUPS; g++) {
      expected.put(groupName(g), new HashSet<>());
      none.put(groupName(g), Set.of());
    }
    for (int i = 0; i < N; i++) {
      expected.get(groupName(i % GROUPS)).add(workers.get(i).path().name());
    }

    Bursts.Result burst =
        Bursts.run(
            N,
            IN_FLIGHT,
            TIMEOUT,
            i -> home.registry().register(group(groupName(i % GROUPS)), workers.get(i)));
    assertTrue(burst.allSucceeded(), "register burst on " + home.name() + ": " + burst);
    long registered = System.nanoTime();
    // The registering node sees its own registrations as soon as register completes.
    assertWorkers(home, expected);
    for (TroupeNode node : cluster.liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "all " + N + " workers in workers() and allWorkers() on " + node.name(),
          () -> assertWorkers(node, expected));
    }
    long converged = System.nanoTime();
    for (TroupeNode node : cluster.liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT, "picks of every group on " + node.name(), () -> assertPicks(node, expected));
    }
    assertKeyedPicksAgree(expected);
    printHistogramIfAsked("workers");

    owner.tell(Owner.Stop.INSTANCE);
    long stopped = System.nanoTime();
    for (TroupeNode node : cluster.liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "no worker left in workers(), allWorkers() or pick on " + node.name(),
          () -> {
            assertWorkers(node, none);
            assertPicks(node, none);
          });
    }
    long gone = System.nanoTime();
    System.out.printf(
        "RegistryScaleIT: %d workers in %d groups: registered in %d ms (%d in flight), on every"
            + " node %d ms later; gone from every node %d ms after the stop%n",
        N,
        GROUPS,
        burst.elapsed().toMillis(),
        IN_FLIGHT,
        millis(converged - registered),
        millis(gone - stopped));
    assertClusterStayedHealthy();
  }

  @Test
  void tenThousandNamesRegisteredInOneBurstReachEveryNodeAndAreFreedWhenTheirHoldersStop() {
    TroupeNode home = cluster.node(0);
    ActorRef<Owner.Command> owner =
        home.system().systemActorOf(Owner.create(), "scale-holder-owner", Props.empty());
    List<ActorRef<EchoWorker.Command>> holders = spawn(home, owner, "scale-holder-");

    Bursts.Result burst =
        Bursts.run(
            N, IN_FLIGHT, TIMEOUT, i -> home.addressBook().register(nameOf(i), holders.get(i)));
    assertTrue(burst.allSucceeded(), "address-book burst on " + home.name() + ": " + burst);
    long registered = System.nanoTime();
    for (TroupeNode node : cluster.liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "all " + N + " names located on " + home.name() + " by " + node.name(),
          () -> assertLocated(node, Optional.of(home.address())));
    }
    long converged = System.nanoTime();

    printHistogramIfAsked("names");
    owner.tell(Owner.Stop.INSTANCE);
    long stopped = System.nanoTime();
    for (TroupeNode node : cluster.liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "no name left on " + node.name() + " once the holders stopped",
          () -> assertLocated(node, Optional.empty()));
    }
    long gone = System.nanoTime();
    System.out.printf(
        "RegistryScaleIT: %d names: registered in %d ms (%d in flight), located on every node %d"
            + " ms later; freed on every node %d ms after the stop%n",
        N,
        burst.elapsed().toMillis(),
        IN_FLIGHT,
        millis(converged - registered),
        millis(gone - stopped));
    assertClusterStayedHealthy();
  }

  /** No heartbeat warning and no unreachable member since this test started. */
  private void assertClusterStayedHealthy() {
    List<String> warnings = List.copyOf(log.heartbeatWarnings);
    assertEquals(
        List.of(),
        warnings.subList(heartbeatMark, warnings.size()),
        "heartbeat warnings during this test");
    for (HealthWatch watch : watches) {
      List<String> seen = List.copyOf(watch.unreachable);
      assertEquals(
          List.of(),
          seen.subList(unreachableMarks.get(watch), seen.size()),
          "members " + watch.node + " saw unreachable during this test");
    }
  }

  private static List<ActorRef<EchoWorker.Command>> spawn(
      TroupeNode node, ActorRef<Owner.Command> owner, String prefix) {
    List<ActorRef<EchoWorker.Command>> refs =
        await(
            AskPattern.<Owner.Command, List<ActorRef<EchoWorker.Command>>>ask(
                owner,
                replyTo -> new Owner.Spawn(prefix, N, replyTo),
                TIMEOUT,
                node.system().scheduler()),
            TIMEOUT);
    assertEquals(N, refs.size(), "actors spawned on " + node.name());
    return refs;
  }

  private static String groupName(int g) {
    return "scale-" + g;
  }

  private static WorkerGroup<EchoWorker.Command> group(String name) {
    return WorkerGroup.of(name, EchoWorker.Command.class);
  }

  private static String nameOf(int i) {
    return "scale-name-" + i;
  }

  /** Every group lists exactly the expected workers, once each, in workers() and allWorkers(). */
  private static void assertWorkers(TroupeNode node, Map<String, Set<String>> expected) {
    Map<String, List<WorkerEntry<?>>> all = node.registry().allWorkers();
    for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
      String g = e.getKey();
      assertSameWorkers(
          e.getValue(),
          names(node.registry().workers(group(g))),
          node.name() + " workers(" + g + ")");
      assertSameWorkers(
          e.getValue(),
          names(all.getOrDefault(g, List.of())),
          node.name() + " allWorkers()[" + g + "]");
    }
  }

  /** pick and pick-by-key return a member of each non-empty group and nothing for an empty one. */
  private static void assertPicks(TroupeNode node, Map<String, Set<String>> expected) {
    for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
      WorkerGroup<EchoWorker.Command> group = group(e.getKey());
      Set<String> members = e.getValue();
      Optional<String> any = node.registry().pick(group).map(r -> r.path().name());
      Optional<String> byKey =
          node.registry().pick(group, "key-" + e.getKey()).map(RegistryScaleIT::name);
      if (members.isEmpty()) {
        assertEquals(Optional.empty(), any, node.name() + " pick(" + e.getKey() + ")");
        assertEquals(Optional.empty(), byKey, node.name() + " pick(" + e.getKey() + ", key)");
      } else {
        assertTrue(
            any.isPresent() && members.contains(any.get()),
            node.name() + " pick(" + e.getKey() + ") = " + any);
        assertTrue(
            byKey.isPresent() && members.contains(byKey.get()),
            node.name() + " pick(" + e.getKey() + ", key) = " + byKey);
      }
    }
  }

  /** Every node that sees the same members picks the same worker for a key. */
  private void assertKeyedPicksAgree(Map<String, Set<String>> expected) {
    for (String g : expected.keySet()) {
      Set<Optional<String>> answers =
          cluster.liveNodes().stream()
              .map(n -> n.registry().pick(group(g), "key-" + g).map(RegistryScaleIT::name))
              .collect(Collectors.toSet());
      assertEquals(1, answers.size(), "pick(" + g + ", key) on the nodes: " + answers);
    }
  }

  /** Every name is located at {@code where} by {@code node}. */
  private static void assertLocated(TroupeNode node, Optional<Address> where) {
    int wrong = 0;
    List<String> examples = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      Optional<Address> located = node.addressBook().locate(nameOf(i));
      if (!located.equals(where)) {
        wrong++;
        if (examples.size() < 3) {
          examples.add(nameOf(i) + " -> " + located);
        }
      }
    }
    if (wrong > 0) {
      fail(
          node.name()
              + ": "
              + wrong
              + " of "
              + N
              + " names not located at "
              + where
              + ", e.g. "
              + examples);
    }
  }

  private static void assertSameWorkers(Set<String> expected, List<String> listed, String what) {
    Set<String> distinct = new HashSet<>(listed);
    if (listed.size() == expected.size() && distinct.equals(expected)) {
      return;
    }
    Set<String> missing = new TreeSet<>(expected);
    missing.removeAll(distinct);
    Set<String> unexpected = new TreeSet<>(distinct);
    unexpected.removeAll(expected);
    fail(
        what
            + ": "
            + listed.size()
            + " listed ("
            + distinct.size()
            + " distinct), "
            + expected.size()
            + " expected; missing "
            + missing.size()
            + " e.g. "
            + sample(missing)
            + ", unexpected "
            + unexpected.size()
            + " e.g. "
            + sample(unexpected));
  }

  /** Names, not refs: a remote ref does not equal the local ref of the same actor. */
  private static List<String> names(Collection<? extends WorkerEntry<?>> entries) {
    return entries.stream().map(e -> name(e.ref())).collect(Collectors.toList());
  }

  private static String name(ActorRef<?> ref) {
    return ref.path().name();
  }

  private static List<String> sample(Set<String> values) {
    return values.stream().limit(3).collect(Collectors.toList());
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
