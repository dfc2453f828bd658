package dev.troupe.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.Subscription;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * How long a change to the {@code WorkerRegistry} or the {@code AddressBook} takes to be visible on
 * every node of a 5-node cluster, against the bare Pekko receptionist; written as JSON tables for
 * {@link PerformanceReport}. Not a JMH benchmark: each figure is the latency of one cluster-wide
 * change, measured many times.
 *
 * <p>Five {@link TroupeNode}s in this JVM on 127.0.0.1 (port 0) form a cluster. After a few warm-up
 * rounds, each round, on node {@code round % 5}, measures from just before the call until all five
 * nodes see the change:
 *
 * <ol>
 *   <li><b>registry register</b>: {@code registry().register(group, worker)} of a new worker, until
 *       it is in {@code workers(group)} on every node, observed with {@code registry().subscribe}
 *       listeners (one per node, called when the node's view changes);
 *   <li><b>registry death</b>: the worker stops, until it has left {@code workers(group)} on every
 *       node;
 *   <li><b>address-book register</b>: {@code addressBook().register(name, actor)} of a new name,
 *       until {@code locate(name)} answers on every node; the address book has no listener, so one
 *       thread polls the five nodes every 100 µs ({@link LockSupport#parkNanos}, no busy spin);
 *   <li><b>address-book death</b>: the holder stops, until {@code locate(name)} is empty on every
 *       node;
 *   <li><b>baseline</b>: the same for the bare receptionist: {@code Receptionist.register(key,
 *       ref)} under a plain {@link ServiceKey}, until a {@code Receptionist.subscribe} subscriber
 *       on every node has it in its listing, and the actor's death, until every listing has lost
 *       it. On this cluster the receptionist runs with the settings Troupe's {@code reference.conf}
 *       gives it (writes to all nodes, subscribers told within 10 ms).
 * </ol>
 *
 * <p>Then, unless disabled, a second 5-node cluster with Pekko's default receptionist settings
 * ({@code write-consistency = local}, {@code notify-subscribers-interval = 500ms}) measures the
 * baseline again: what a Pekko application without Troupe's tuning gets. The two clusters never run
 * at the same time.
 *
 * <p>Each change starts after a random pause (up to 20 ms, 500 ms with Pekko's defaults), so that
 * it falls at a random phase of the replicators' timers instead of locking onto them. Figures are
 * the 50th, 90th and 99th percentiles (nearest rank) and the maximum over the measured rounds, in
 * milliseconds; the goal is p99 ≤ 25 ms for the registry and the address book.
 *
 * <p>Usage: {@code PropagationBench [--rounds 200] [--warmup 10] [--defaults-rounds 50] [--output
 * bench/results/propagation.json] [--verbose] [--config hocon]}; {@code --defaults-rounds 0} skips
 * the second cluster. Run from the repository root ({@code bench/run} does). {@code --verbose}
 * prints, for every change, when each node saw it; {@code --config} adds HOCON to every node of
 * both clusters (for experiments: the figures in {@code docs/PERFORMANCE.md} are measured without
 * it).
 */
public final class PropagationBench {
  private static final int NODES = 5;
  private static final int GOAL_P99_MS = 25;
  private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(60);
  private static final int TUNED_PAUSE_MS = 20;
  private static final int DEFAULTS_PAUSE_MS = 500;
  private static final int DEFAULTS_WARMUP = 2;

  /** For several nodes in one JVM; quiet logs. */
  private static final String CLUSTER_CONFIG =
      String.join(
          "\n",
          "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
          "pekko.log-dead-letters = off",
          "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
          "troupe.core.close-timeout = 30s");

  /** Pekko's own receptionist defaults, over the ones Troupe's reference.conf sets. */
  private static final String PEKKO_RECEPTIONIST_DEFAULTS =
      String.join(
          "\n",
          "pekko.cluster.typed.receptionist.write-consistency = local",
          "pekko.cluster.typed.receptionist.distributed-data.notify-subscribers-interval = 500ms");

  /** The receptionist settings of the two clusters, for the table. */
  private static final String TUNED = "Troupe (write all, notify 10 ms)";

  private static final String DEFAULTS = "Pekko defaults (write local, notify 500 ms)";

  private static final WorkerGroup<BenchWorker.Command> GROUP =
      WorkerGroup.of("bench-propagation", BenchWorker.Command.class);
  private static final ServiceKey<BenchWorker.Command> SERVICE_KEY =
      ServiceKey.create(BenchWorker.Command.class, "bench-propagation-raw");

  private final List<TroupeNode> nodes;
  private final Random random;
  private final int pauseMs;
  private final boolean verbose;
  private final List<Subscription> subscriptions = new ArrayList<>();
  private volatile Sighting registrySighting;
  private volatile Sighting receptionistSighting;

  private PropagationBench(List<TroupeNode> nodes, Random random, int pauseMs, boolean verbose) {
    this.nodes = nodes;
    this.random = random;
    this.pauseMs = pauseMs;
    this.verbose = verbose;
  }

  public static void main(String[] args) throws Exception {
    Path output = Path.of("bench/results/propagation.json");
    int rounds = 200;
    int warmup = 10;
    int defaultsRounds = 50;
    boolean verbose = false;
    String extraConfig = "";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = count(args, ++i, "--rounds", 1);
        case "--warmup" -> warmup = count(args, ++i, "--warmup", 0);
        case "--defaults-rounds" -> defaultsRounds = count(args, ++i, "--defaults-rounds", 0);
        case "--output" -> output = Path.of(value(args, ++i, "--output"));
        case "--verbose" -> verbose = true;
        case "--config" -> extraConfig = value(args, ++i, "--config");
        default -> {
          System.err.println(
              "usage: PropagationBench [--rounds 200] [--warmup 10] [--defaults-rounds 50]"
                  + " [--output bench/results/propagation.json] [--verbose] [--config hocon]");
          System.exit(2);
        }
      }
    }

    long started = System.nanoTime();
    Random random = new Random(1);
    List<Measurement> measurements = new ArrayList<>();

    System.out.printf(
        Locale.ROOT,
        "==> %d-node cluster, Troupe settings: %d + %d rounds%n",
        NODES,
        warmup,
        rounds);
    List<TroupeNode> tuned = startCluster("tuned", extraConfig);
    try {
      PropagationBench bench = new PropagationBench(tuned, random, TUNED_PAUSE_MS, verbose);
      measurements.addAll(bench.runTuned(warmup, rounds));
      bench.closeSubscriptions();
    } finally {
      stopCluster(tuned);
    }

    if (defaultsRounds > 0) {
      int defaultsWarmup = Math.min(warmup, DEFAULTS_WARMUP);
      System.out.printf(
          Locale.ROOT,
          "==> %d-node cluster, Pekko receptionist defaults: %d + %d rounds%n",
          NODES,
          defaultsWarmup,
          defaultsRounds);
      List<TroupeNode> defaults =
          startCluster("defaults", PEKKO_RECEPTIONIST_DEFAULTS + "\n" + extraConfig);
      try {
        PropagationBench bench = new PropagationBench(defaults, random, DEFAULTS_PAUSE_MS, verbose);
        measurements.addAll(bench.runDefaults(defaultsWarmup, defaultsRounds));
        bench.closeSubscriptions();
      } finally {
        stopCluster(defaults);
      }
    }

    write(output, measurements, rounds, warmup, defaultsRounds, extraConfig);
    System.out.printf(
        Locale.ROOT,
        "Propagation figures written to %s in %.1f s%n",
        output,
        (System.nanoTime() - started) / 1e9);
  }

  // ---- the rounds ----

  private List<Measurement> runTuned(int warmup, int rounds) throws InterruptedException {
    subscribeRegistry();
    subscribeReceptionist();
    Measurement registryRegister =
        new Measurement(
            "registryRegister",
            "WorkerRegistry: register → in workers(group) on all 5 nodes",
            TUNED,
            true);
    Measurement registryDeath =
        new Measurement(
            "registryDeath",
            "WorkerRegistry: worker stops → gone from workers(group) on all 5 nodes",
            TUNED,
            true);
    Measurement bookRegister =
        new Measurement(
            "addressBookRegister",
            "AddressBook: register → locate(name) answers on all 5 nodes",
            TUNED,
            true);
    Measurement bookDeath =
        new Measurement(
            "addressBookDeath",
            "AddressBook: holder stops → locate(name) empty on all 5 nodes",
            TUNED,
            true);
    Measurement rawRegister = receptionistRegister("Tuned", TUNED);
    Measurement rawDeath = receptionistDeath("Tuned", TUNED);

    for (int round = -warmup; round < rounds; round++) {
      boolean counted = round >= 0;
      String id = counted ? "r" + round : "w" + -round;
      int owner = Math.floorMod(round, NODES);

      long[] registry = registryRound(owner, id);
      long[] book = addressBookRound(owner, id);
      long[] raw = receptionistRound(owner, id);
      if (counted) {
        registryRegister.add(registry[0]);
        registryDeath.add(registry[1]);
        bookRegister.add(book[0]);
        bookDeath.add(book[1]);
        rawRegister.add(raw[0]);
        rawDeath.add(raw[1]);
      }
      progress(round, rounds);
    }
    return List.of(registryRegister, registryDeath, bookRegister, bookDeath, rawRegister, rawDeath);
  }

  private List<Measurement> runDefaults(int warmup, int rounds) throws InterruptedException {
    subscribeReceptionist();
    Measurement rawRegister = receptionistRegister("Defaults", DEFAULTS);
    Measurement rawDeath = receptionistDeath("Defaults", DEFAULTS);
    for (int round = -warmup; round < rounds; round++) {
      int owner = Math.floorMod(round, NODES);
      long[] raw = receptionistRound(owner, round >= 0 ? "r" + round : "w" + -round);
      if (round >= 0) {
        rawRegister.add(raw[0]);
        rawDeath.add(raw[1]);
      }
      progress(round, rounds);
    }
    return List.of(rawRegister, rawDeath);
  }

  private static Measurement receptionistRegister(String suffix, String settings) {
    return new Measurement(
        "receptionistRegister" + suffix,
        "Baseline: Receptionist.register → in a Receptionist.subscribe listing on all 5 nodes",
        settings,
        false);
  }

  private static Measurement receptionistDeath(String suffix, String settings) {
    return new Measurement(
        "receptionistDeath" + suffix,
        "Baseline: registered actor stops → gone from the listings on all 5 nodes",
        settings,
        false);
  }

  /**
   * Registers a new worker on {@code owner}, then stops it; nanoseconds until all nodes saw each.
   */
  private long[] registryRound(int owner, String id) throws InterruptedException {
    TroupeNode node = nodes.get(owner);
    ActorRef<BenchWorker.Command> worker = spawn(node, "registry-worker-" + id);
    Sighting sighting = new Sighting(worker.path().name());
    registrySighting = sighting;

    pause();
    long registered = System.nanoTime();
    CompletableFuture<?> done = node.registry().register(GROUP, worker).toCompletableFuture();
    await(sighting.allAppeared, sighting, "see registry worker " + id);
    long appeared = sighting.lastAppeared() - registered;
    trace("registry register", id, owner, sighting.appeared, registered);
    join(done, "registry.register of " + id);

    pause();
    long stopped = System.nanoTime();
    worker.tell(BenchWorker.Stop.INSTANCE);
    await(sighting.allGone, sighting, "lose registry worker " + id);
    trace("registry death", id, owner, sighting.gone, stopped);
    return new long[] {appeared, sighting.lastGone() - stopped};
  }

  /** Names a new actor on {@code owner}, then stops it; nanoseconds until all nodes saw each. */
  private long[] addressBookRound(int owner, String id) {
    TroupeNode node = nodes.get(owner);
    ActorRef<BenchWorker.Command> holder = spawn(node, "book-holder-" + id);
    String name = "bench-name-" + id;

    pause();
    long registered = System.nanoTime();
    CompletableFuture<?> done = node.addressBook().register(name, holder).toCompletableFuture();
    long appeared =
        poll(
            n -> n.addressBook().locate(name).isPresent(), registered, "locate " + name, id, owner);
    join(done, "addressBook.register of " + name);

    pause();
    long stopped = System.nanoTime();
    holder.tell(BenchWorker.Stop.INSTANCE);
    long gone =
        poll(n -> n.addressBook().locate(name).isEmpty(), stopped, "lose " + name, id, owner);
    return new long[] {appeared, gone};
  }

  /** Registers a new actor with the bare receptionist, then stops it; nanoseconds as above. */
  private long[] receptionistRound(int owner, String id) throws InterruptedException {
    TroupeNode node = nodes.get(owner);
    ActorRef<BenchWorker.Command> actor = spawn(node, "receptionist-actor-" + id);
    Sighting sighting = new Sighting(actor.path().name());
    receptionistSighting = sighting;

    pause();
    long registered = System.nanoTime();
    node.system().receptionist().tell(Receptionist.register(SERVICE_KEY, actor));
    await(sighting.allAppeared, sighting, "see receptionist actor " + id);
    long appeared = sighting.lastAppeared() - registered;
    trace("receptionist register", id, owner, sighting.appeared, registered);

    pause();
    long stopped = System.nanoTime();
    actor.tell(BenchWorker.Stop.INSTANCE);
    await(sighting.allGone, sighting, "lose receptionist actor " + id);
    trace("receptionist death", id, owner, sighting.gone, stopped);
    return new long[] {appeared, sighting.lastGone() - stopped};
  }

  // ---- observing the nodes ----

  /** A registry listener on every node, reporting to the current {@link #registrySighting}. */
  private void subscribeRegistry() throws InterruptedException {
    CountDownLatch ready = new CountDownLatch(NODES);
    for (int i = 0; i < NODES; i++) {
      int index = i;
      AtomicBoolean first = new AtomicBoolean(true);
      Subscription subscription =
          nodes
              .get(i)
              .registry()
              .subscribe(
                  GROUP,
                  entries -> {
                    if (first.getAndSet(false)) {
                      ready.countDown();
                    }
                    Sighting sighting = registrySighting;
                    if (sighting != null) {
                      sighting.observe(index, contains(entries, sighting.name));
                    }
                  });
      subscriptions.add(subscription);
    }
    if (!ready.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("registry subscriptions did not start in " + TIMEOUT);
    }
  }

  /** A receptionist subscriber on every node, reporting to {@link #receptionistSighting}. */
  private void subscribeReceptionist() throws InterruptedException {
    CountDownLatch ready = new CountDownLatch(NODES);
    for (int i = 0; i < NODES; i++) {
      int index = i;
      Behavior<Receptionist.Listing> subscriber =
          Behaviors.setup(
              ctx -> {
                ctx.getSystem()
                    .receptionist()
                    .tell(Receptionist.subscribe(SERVICE_KEY, ctx.getSelf()));
                AtomicBoolean first = new AtomicBoolean(true);
                return Behaviors.receiveMessage(
                    listing -> {
                      if (first.getAndSet(false)) {
                        ready.countDown();
                      }
                      Sighting sighting = receptionistSighting;
                      if (sighting != null) {
                        boolean present =
                            listing.getServiceInstances(SERVICE_KEY).stream()
                                .anyMatch(ref -> ref.path().name().equals(sighting.name));
                        sighting.observe(index, present);
                      }
                      return Behaviors.same();
                    });
              });
      // Runs until its node stops, with the cluster.
      nodes.get(i).system().systemActorOf(subscriber, "bench-subscriber", Props.empty());
    }
    if (!ready.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("receptionist subscribers did not start in " + TIMEOUT);
    }
  }

  private void closeSubscriptions() {
    for (Subscription subscription : subscriptions) {
      subscription.close();
    }
    subscriptions.clear();
  }

  private static boolean contains(List<WorkerEntry<BenchWorker.Command>> entries, String name) {
    for (WorkerEntry<BenchWorker.Command> entry : entries) {
      if (entry.ref().path().name().equals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Polls every node every 100 µs until {@code condition} holds on all of them; the nanoseconds
   * from {@code since} until the last one first satisfied it.
   */
  private long poll(
      Predicate<TroupeNode> condition, long since, String what, String id, int owner) {
    long[] seen = new long[NODES];
    boolean[] done = new boolean[NODES];
    int remaining = NODES;
    long deadline = since + TIMEOUT.toNanos();
    while (true) {
      for (int i = 0; i < NODES; i++) {
        if (!done[i] && condition.test(nodes.get(i))) {
          seen[i] = System.nanoTime();
          done[i] = true;
          remaining--;
        }
      }
      if (remaining == 0) {
        trace("address book " + what.substring(0, what.indexOf(' ')), id, owner, seen, since);
        return Arrays.stream(seen).max().getAsLong() - since;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "nodes " + missing(done) + " did not " + what + " within " + TIMEOUT);
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  private static void await(CountDownLatch latch, Sighting sighting, String what)
      throws InterruptedException {
    if (!latch.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "not every node did " + what + " within " + TIMEOUT + ": " + sighting);
    }
  }

  private static void join(CompletableFuture<?> future, String what) {
    try {
      future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(what + " failed", e);
    }
  }

  private static List<Integer> missing(boolean[] done) {
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < done.length; i++) {
      if (!done[i]) {
        missing.add(i);
      }
    }
    return missing;
  }

  /** With --verbose: when each node saw the change, in ms after it started. */
  private void trace(String change, String id, int owner, AtomicLongArray times, long since) {
    long[] copy = new long[NODES];
    for (int i = 0; i < NODES; i++) {
      copy[i] = times.get(i);
    }
    trace(change, id, owner, copy, since);
  }

  private void trace(String change, String id, int owner, long[] times, long since) {
    if (!verbose) {
      return;
    }
    StringBuilder line = new StringBuilder();
    line.append(String.format(Locale.ROOT, "  %-4s %-21s on node %d:", id, change, owner));
    for (long time : times) {
      line.append(' ').append(ms((time - since) / 1e6));
    }
    System.out.println(line.append(" ms"));
  }

  /** Waits a random 0 to {@link #pauseMs} ms, so that the next change starts at a random phase. */
  private void pause() {
    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(random.nextInt(pauseMs * 1000)));
  }

  private static ActorRef<BenchWorker.Command> spawn(TroupeNode node, String name) {
    return node.system().systemActorOf(BenchWorker.create(), name, Props.empty());
  }

  private static void progress(int round, int rounds) {
    int done = round + 1;
    if (done > 0 && (done % 50 == 0 || done == rounds)) {
      System.out.printf(Locale.ROOT, "  %d / %d rounds%n", done, rounds);
    }
  }

  /**
   * When each node first saw one actor appear and then disappear. Each slot is written by one
   * node's listener; the latches count the nodes that have seen each.
   */
  private static final class Sighting {
    private static final long NONE = Long.MIN_VALUE;

    final String name;
    final AtomicLongArray appeared = new AtomicLongArray(NODES);
    final AtomicLongArray gone = new AtomicLongArray(NODES);
    final CountDownLatch allAppeared = new CountDownLatch(NODES);
    final CountDownLatch allGone = new CountDownLatch(NODES);

    Sighting(String name) {
      this.name = name;
      for (int i = 0; i < NODES; i++) {
        appeared.set(i, NONE);
        gone.set(i, NONE);
      }
    }

    /** Node {@code node} now does ({@code present}) or does not list the actor. */
    void observe(int node, boolean present) {
      long now = System.nanoTime();
      if (present) {
        if (appeared.compareAndSet(node, NONE, now)) {
          allAppeared.countDown();
        }
      } else if (appeared.get(node) != NONE && gone.compareAndSet(node, NONE, now)) {
        allGone.countDown();
      }
    }

    long lastAppeared() {
      return max(appeared);
    }

    long lastGone() {
      return max(gone);
    }

    private static long max(AtomicLongArray times) {
      long max = NONE;
      for (int i = 0; i < NODES; i++) {
        max = Math.max(max, times.get(i));
      }
      return max;
    }

    @Override
    public String toString() {
      return "[" + name + "] appeared " + seen(appeared) + ", gone " + seen(gone);
    }

    private static String seen(AtomicLongArray times) {
      List<Integer> nodes = new ArrayList<>();
      for (int i = 0; i < NODES; i++) {
        if (times.get(i) != NONE) {
          nodes.add(i);
        }
      }
      return "on nodes " + nodes;
    }
  }

  // ---- the cluster ----

  private static List<TroupeNode> startCluster(String prefix, String extraConfig) {
    List<TroupeNode> nodes = new ArrayList<>();
    try {
      String config = extraConfig + "\n" + CLUSTER_CONFIG;
      for (int i = 0; i < NODES; i++) {
        List<String> seeds = i == 0 ? List.of() : List.of(nodes.get(0).address().toString());
        nodes.add(
            TroupeNode.start(
                NodeOptions.builder()
                    .name(prefix + "-" + i)
                    .port(0)
                    .seedNodes(seeds)
                    .config(config)
                    .build()));
      }
      long deadline = System.nanoTime() + CONVERGE_TIMEOUT.toNanos();
      for (TroupeNode node : nodes) {
        awaitUntil(() -> node.members().size() == NODES, deadline, node + " to see 5 Up members");
      }
      return nodes;
    } catch (RuntimeException e) {
      stopCluster(nodes);
      throw e;
    }
  }

  private static void awaitUntil(BooleanSupplier condition, long deadline, String what) {
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  /** Leaves with every node at once, then terminates whatever has not stopped in time. */
  private static void stopCluster(List<TroupeNode> nodes) {
    List<CompletableFuture<?>> left = new ArrayList<>();
    for (TroupeNode node : nodes) {
      left.add(node.leave().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(left.toArray(CompletableFuture[]::new))
          .get(CONVERGE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      System.err.println("Cluster did not leave in " + CONVERGE_TIMEOUT + "; terminating: " + e);
    }
    for (TroupeNode node : nodes) {
      node.system().terminate();
    }
    for (TroupeNode node : nodes) {
      node.system().getWhenTerminated().toCompletableFuture().join();
    }
  }

  // ---- results ----

  /** The latencies of one kind of change, in nanoseconds. */
  private static final class Measurement {
    final String key;
    final String label;
    final String settings;
    final boolean hasGoal;
    final List<Long> nanos = new ArrayList<>();

    Measurement(String key, String label, String settings, boolean hasGoal) {
      this.key = key;
      this.label = label;
      this.settings = settings;
      this.hasGoal = hasGoal;
    }

    void add(long latency) {
      nanos.add(latency);
    }

    /** The {@code p}-th percentile (nearest rank), in milliseconds. */
    double percentileMs(double p) {
      long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
      int rank = (int) Math.ceil(p / 100 * sorted.length);
      return sorted[Math.max(rank, 1) - 1] / 1e6;
    }

    boolean met() {
      return percentileMs(99) <= GOAL_P99_MS;
    }

    List<Object> row() {
      return List.of(
          label,
          settings,
          nanos.size(),
          ms(percentileMs(50)),
          ms(percentileMs(90)),
          ms(percentileMs(99)),
          ms(percentileMs(100)),
          hasGoal ? "p99 ≤ " + GOAL_P99_MS + " ms" : "—",
          hasGoal ? (met() ? "met" : "**not met**") : "—");
    }

    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("key", key);
      map.put("label", label);
      map.put("settings", settings);
      map.put("rounds", nanos.size());
      map.put("p50Ms", percentileMs(50));
      map.put("p90Ms", percentileMs(90));
      map.put("p99Ms", percentileMs(99));
      map.put("maxMs", percentileMs(100));
      map.put("meanMs", nanos.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6);
      if (hasGoal) {
        map.put("goalP99Ms", GOAL_P99_MS);
        map.put("met", met());
      }
      map.put("samplesMs", nanos.stream().map(n -> n / 1e6).toList());
      return map;
    }

    String summary() {
      return String.format(
          Locale.ROOT,
          "%-28s p50 %7s  p90 %7s  p99 %7s  max %7s ms",
          key,
          ms(percentileMs(50)),
          ms(percentileMs(90)),
          ms(percentileMs(99)),
          ms(percentileMs(100)));
    }
  }

  /** Milliseconds: two decimals below 10, one below 100, none above. */
  private static String ms(double ms) {
    String pattern = ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : "%.2f";
    return String.format(Locale.ROOT, pattern, ms);
  }

  private static void write(
      Path output,
      List<Measurement> measurements,
      int rounds,
      int warmup,
      int defaultsRounds,
      String extraConfig)
      throws IOException {
    List<List<Object>> rows = new ArrayList<>();
    List<Map<String, Object>> data = new ArrayList<>();
    for (Measurement measurement : measurements) {
      System.out.println(measurement.summary());
      rows.add(measurement.row());
      data.add(measurement.toMap());
    }
    Map<String, Object> table = new LinkedHashMap<>();
    table.put("title", "Propagation: a change visible on all 5 nodes");
    table.put(
        "description",
        "Five nodes in one JVM on 127.0.0.1. Each round, on node round % 5, the time from just"
            + " before the call (register, or telling the actor to stop) until the last of the"
            + " five nodes shows the change: WorkerRegistry through subscribe listeners on every"
            + " node, AddressBook by polling locate(name) on every node every 100 µs, the bare"
            + " Pekko receptionist through Receptionist.subscribe on every node. The baseline"
            + " rows with Troupe's settings run on the same cluster, interleaved with the Troupe"
            + " rows, so the receptionist there already has Troupe's tuning (writes to all nodes,"
            + " subscribers told within 10 ms); the Pekko-defaults rows run on a second 5-node"
            + " cluster with write-consistency = local and notify-subscribers-interval = 500ms."
            + " Each change starts after a random pause so that it falls at a random phase of"
            + " the replicators' timers. Percentiles are nearest-rank over the measured rounds,"
            + " after "
            + warmup
            + " warm-up rounds ("
            + Math.min(warmup, DEFAULTS_WARMUP)
            + " on the Pekko-defaults cluster); goal: p99 ≤ "
            + GOAL_P99_MS
            + " ms for the registry and the address book.");
    table.put(
        "columns",
        List.of(
            "Change", "Settings", "Rounds", "p50 ms", "p90 ms", "p99 ms", "max ms", "Goal", "Met"));
    table.put("rows", rows);

    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("nodes", NODES);
    parameters.put("rounds", rounds);
    parameters.put("warmupRounds", warmup);
    parameters.put("defaultsRounds", defaultsRounds);
    parameters.put("pollMicros", POLL_NANOS / 1000);
    parameters.put("pauseMs", TUNED_PAUSE_MS + " / " + DEFAULTS_PAUSE_MS);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    parameters.put("jvm", System.getProperty("java.vm.version"));
    if (!extraConfig.isBlank()) {
      parameters.put("config", extraConfig.replace('\n', ' '));
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("generator", PropagationBench.class.getName());
    document.put("generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    document.put("parameters", parameters);
    document.put("tables", List.of(table));
    document.put("data", data);

    if (output.getParent() != null) {
      Files.createDirectories(output.getParent());
    }
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(output.toFile(), document);
  }

  private static int count(String[] args, int index, String option, int least) {
    int value = Integer.parseInt(value(args, index, option));
    if (value < least) {
      throw new IllegalArgumentException(option + " must be at least " + least + ", got " + value);
    }
    return value;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }
}
