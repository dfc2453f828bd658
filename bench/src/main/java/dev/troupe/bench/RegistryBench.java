package dev.troupe.bench;

import dev.troupe.bench.PerformanceReport.Baseline;
import dev.troupe.bench.PerformanceReport.Goal;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the local reads of the {@code WorkerRegistry} and the {@code AddressBook}, single
 * thread, against asking the Pekko receptionist ({@link #receptionistFind()}) on the same node,
 * with the registry and the address book each holding {@link #size} entries.
 *
 * <p>One embedded {@link TroupeNode} (no seeds, port 0) holds {@code size} trivial workers ({@link
 * BenchWorker}) in groups of at most 1000: one group of 100 at {@code size = 100}, 100 groups of
 * 1000 at {@code size = 100000}. The reads go to the first group ({@link #GROUP}). It also holds
 * {@code size} more actors named in the address book, and as many workers as the read group holds
 * registered directly with the receptionist under a plain {@link ServiceKey}, which is what a Pekko
 * application without Troupe would ask (the receptionist also holds the registry's workers, since
 * the registry is built on it). Keys for {@code pick(group, key)} ({@code "user-123456"}) are 1024
 * pre-generated strings cycled with an index; names for {@code locate} are drawn uniformly from all
 * {@code size} names into a table of at least 1024 and at least {@code size} entries (a power of
 * two), cycled the same way.
 *
 * <p>Filling: registrations go out in a loop with at most {@value #IN_FLIGHT} unanswered at a time;
 * the setup then polls until every group lists its workers, every name is located and the
 * receptionist lists its workers. A register whose answer timed out is not an error (it may still
 * land); the poll decides. The whole fill must finish within 10 s + 3 ms per entry (310 s at
 * 100,000), or {@code -Dtroupe.bench.fill-timeout=PT20M} (an ISO-8601 duration, passed to the fork
 * with {@code -jvmArgsAppend}); it prints its progress every 10 s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RegistryBench {
  private static final int GROUP_SIZE = 1000;
  private static final int IN_FLIGHT = 500;
  private static final int KEY_MASK = 1023;
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);
  private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final WorkerGroup<BenchWorker.Command> GROUP =
      WorkerGroup.of("bench-registry", BenchWorker.Command.class);
  private static final ServiceKey<BenchWorker.Command> SERVICE_KEY =
      ServiceKey.create(BenchWorker.Command.class, "bench-receptionist");

  /** Workers in the registry and names in the address book (each). */
  @Param({"100", "100000"})
  public int size;

  private TroupeNode node;
  private ActorSystem<Void> system;
  private String[] keys;
  private String[] lookups;
  private int lookupMask;
  private int nextKey;
  private int nextName;

  @Setup
  public void setUp() {
    if (size < 1) {
      throw new IllegalArgumentException("RegistryBench size must be >= 1, got: " + size);
    }
    node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("registry-bench")
                .port(0)
                // 100k names: more than the 20,000 that core allowed by default before
                .config(
                    "pekko.log-dead-letters = off\n"
                        + (size > 20_000 ? "troupe.core.address-book.max-names = 1000000" : ""))
                .build());
    node.whenUp().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
    system = node.system();
    String[] names;
    try {
      names = fill();
    } catch (RuntimeException | Error e) {
      // JMH skips the tear-down after a failed setup: stop the node, or the fork cannot exit
      node.close();
      throw e;
    }

    Random random = new Random(42);
    keys = new String[KEY_MASK + 1];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "user-" + (100_000 + random.nextInt(900_000));
    }
    lookups = new String[Integer.highestOneBit(Math.max(1024, size) - 1) << 1];
    lookupMask = lookups.length - 1;
    for (int i = 0; i < lookups.length; i++) {
      lookups[i] = names[random.nextInt(size)];
    }
  }

  /** Registers the workers, names and receptionist workers and waits until reads show them. */
  private String[] fill() {
    long deadline = System.nanoTime() + fillTimeout().toNanos();

    int groupCount = (size + GROUP_SIZE - 1) / GROUP_SIZE;
    int perGroup = (size + groupCount - 1) / groupCount;
    List<WorkerGroup<BenchWorker.Command>> groups = new ArrayList<>();
    groups.add(GROUP);
    for (int g = 1; g < groupCount; g++) {
      groups.add(WorkerGroup.of("bench-registry-" + g, BenchWorker.Command.class));
    }
    String[] names = new String[size];
    for (int i = 0; i < size; i++) {
      names[i] = "bench-name-" + i;
    }
    int readGroupSize = perGroup; // the first group is a full one

    registerAll(
        "workers",
        size,
        i -> node.registry().register(groups.get(i / perGroup), spawn("registry-worker-" + i)),
        deadline);
    registerAll(
        "names", size, i -> node.addressBook().register(names[i], spawn("named-" + i)), deadline);
    registerAll(
        "receptionist workers",
        readGroupSize,
        i -> {
          ActorRef<BenchWorker.Command> worker = spawn("receptionist-worker-" + i);
          return AskPattern.<Receptionist.Command, Receptionist.Registered>ask(
              system.receptionist(),
              replyTo -> Receptionist.register(SERVICE_KEY, worker, replyTo),
              ASK_TIMEOUT,
              system.scheduler());
        },
        deadline);

    awaitCount(
        "workers listed by workers(group) of the " + groupCount + " groups",
        size,
        () -> {
          int listed = 0;
          for (WorkerGroup<BenchWorker.Command> group : groups) {
            listed += node.registry().workers(group).size();
          }
          return listed;
        },
        deadline);
    int[] located = {0};
    awaitCount(
        "names located",
        size,
        () -> {
          // names seen once stay: resume at the first one not located yet
          while (located[0] < size && node.addressBook().locate(names[located[0]]).isPresent()) {
            located[0]++;
          }
          return located[0];
        },
        deadline);
    awaitCount(
        "workers in the receptionist's listing",
        readGroupSize,
        () -> receptionistFind().size(),
        deadline);
    if (node.registry().workers(GROUP).size() != readGroupSize) {
      throw new IllegalStateException(
          "RegistryBench setup: the read group lists "
              + node.registry().workers(GROUP).size()
              + " workers, expected "
              + readGroupSize);
    }
    return names;
  }

  @TearDown
  public void tearDown() {
    if (node != null) {
      node.close();
    }
  }

  /** {@code registry().pick(group)}: round-robin over the group's immutable snapshot. */
  @Benchmark
  @Baseline("receptionistFind")
  @Goal(ratioAtLeast = 1000)
  public Optional<ActorRef<BenchWorker.Command>> registryPick() {
    return node.registry().pick(GROUP);
  }

  /** {@code registry().pick(group, key)}: the key's owner on the group's hash ring. */
  @Benchmark
  @Baseline("receptionistFind")
  @Goal(ratioAtLeast = 1000)
  public Optional<ActorRef<BenchWorker.Command>> registryPickByKey() {
    return node.registry().pick(GROUP, keys[nextKey++ & KEY_MASK]);
  }

  /** {@code registry().workers(group)}: the group's entry list, oldest first. */
  @Benchmark
  @Baseline("receptionistFind")
  @Goal(ratioAtLeast = 1000)
  public List<WorkerEntry<BenchWorker.Command>> registryWorkers() {
    return node.registry().workers(GROUP);
  }

  /** {@code addressBook().locate(name)}: the node of the name's holder. */
  @Benchmark
  @Baseline("receptionistFind")
  @Goal(ratioAtLeast = 1000)
  public Optional<Address> addressBookLocate() {
    return node.addressBook().locate(lookups[nextName++ & lookupMask]);
  }

  /**
   * The baseline: {@code Receptionist.find} asked of the node's receptionist, waiting for the
   * listing of the workers registered under a plain {@link ServiceKey} (as many as the read group
   * holds).
   */
  @Benchmark
  public Set<ActorRef<BenchWorker.Command>> receptionistFind() {
    Receptionist.Listing listing =
        AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                system.receptionist(),
                replyTo -> Receptionist.find(SERVICE_KEY, replyTo),
                ASK_TIMEOUT,
                system.scheduler())
            .toCompletableFuture()
            .join();
    return listing.getServiceInstances(SERVICE_KEY);
  }

  private ActorRef<BenchWorker.Command> spawn(String name) {
    return system.systemActorOf(Behaviors.<BenchWorker.Command>ignore(), name, Props.empty());
  }

  private Duration fillTimeout() {
    String configured = System.getProperty("troupe.bench.fill-timeout");
    return configured != null
        ? Duration.parse(configured)
        : Duration.ofSeconds(10).plusMillis(3L * size);
  }

  /**
   * Calls {@code register} for {@code 0 .. count - 1} with at most {@link #IN_FLIGHT} stages
   * incomplete, and waits for the last; fails on the first error other than an ask timeout.
   */
  private void registerAll(
      String what, int count, IntFunction<CompletionStage<?>> register, long deadline) {
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger timedOut = new AtomicInteger();
    long started = System.nanoTime();
    long nextReport = started + PROGRESS_NANOS;
    for (int i = 0; i < count && failure.get() == null; i++) {
      acquire(inFlight, 1, deadline, "registering " + what + " (" + answered + " answered)");
      register
          .apply(i)
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                  if (cause instanceof TimeoutException) {
                    timedOut.incrementAndGet();
                  } else {
                    failure.compareAndSet(null, cause);
                  }
                }
                answered.incrementAndGet();
                inFlight.release();
              });
      if (System.nanoTime() - nextReport > 0) {
        progress("registering " + what, answered.get(), count, started);
        nextReport += PROGRESS_NANOS;
      }
    }
    acquire(inFlight, IN_FLIGHT, deadline, "registering " + what + " (" + answered + " answered)");
    if (failure.get() != null) {
      throw new IllegalStateException(
          "RegistryBench setup (size=" + size + "): registering " + what + " failed",
          failure.get());
    }
    System.out.printf(
        "RegistryBench setup (size=%d): registered %d %s in %.1f s (%d asks timed out)%n",
        size, count, what, (System.nanoTime() - started) / 1e9, timedOut.get());
  }

  private void acquire(Semaphore semaphore, int permits, long deadline, String what) {
    try {
      long remaining = deadline - System.nanoTime();
      if (!semaphore.tryAcquire(permits, Math.max(0, remaining), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException(
            "RegistryBench setup (size=" + size + "): fill timeout while " + what);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("RegistryBench setup interrupted while " + what, e);
    }
  }

  /** Polls {@code seen} every millisecond until it reaches {@code target}. */
  private void awaitCount(String what, int target, IntSupplier seen, long deadline) {
    long started = System.nanoTime();
    long nextReport = started + PROGRESS_NANOS;
    int count;
    while ((count = seen.getAsInt()) < target) {
      long now = System.nanoTime();
      if (now - deadline > 0) {
        throw new IllegalStateException(
            "RegistryBench setup (size="
                + size
                + "): fill timeout waiting for "
                + what
                + ": "
                + count
                + " of "
                + target);
      }
      if (now - nextReport > 0) {
        progress("waiting for " + what, count, target, started);
        nextReport += PROGRESS_NANOS;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    progress(what, count, target, started);
  }

  private void progress(String what, int done, int of, long started) {
    System.out.printf(
        "RegistryBench setup (size=%d): %s %d of %d after %.1f s%n",
        size, what, done, of, (System.nanoTime() - started) / 1e9);
  }
}
