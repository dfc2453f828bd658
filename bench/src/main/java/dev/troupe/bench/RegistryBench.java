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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the local reads of the {@code WorkerRegistry} and the {@code AddressBook}, single
 * thread, against asking the Pekko receptionist ({@link #receptionistFind()}) on the same node.
 *
 * <p>One embedded {@link TroupeNode} (no seeds, port 0) holds 100 trivial workers ({@link
 * BenchWorker}) in one {@link WorkerGroup}, 100 more actors named in the address book, and another
 * 100 registered directly with the receptionist under a plain {@link ServiceKey}, which is what a
 * Pekko application without Troupe would ask. Keys for {@code pick(group, key)} ({@code
 * "user-123456"}) and names for {@code locate} (drawn from the 100) are 1024 pre-generated strings
 * cycled with an index.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RegistryBench {
  private static final int WORKERS = 100;
  private static final int NAMES = 100;
  private static final int KEY_MASK = 1023;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final WorkerGroup<BenchWorker.Command> GROUP =
      WorkerGroup.of("bench-registry", BenchWorker.Command.class);
  private static final ServiceKey<BenchWorker.Command> SERVICE_KEY =
      ServiceKey.create(BenchWorker.Command.class, "bench-receptionist");

  private TroupeNode node;
  private ActorSystem<Void> system;
  private String[] keys;
  private String[] names;
  private String[] lookups;
  private int nextKey;
  private int nextName;

  @Setup
  public void setUp() {
    node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("registry-bench")
                .port(0)
                .config("pekko.log-dead-letters = off")
                .build());
    node.whenUp().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
    system = node.system();

    List<CompletableFuture<?>> registered = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) {
      ActorRef<BenchWorker.Command> worker = spawn("registry-worker-" + i);
      registered.add(node.registry().register(GROUP, worker).toCompletableFuture());
    }
    names = new String[NAMES];
    for (int i = 0; i < NAMES; i++) {
      names[i] = "bench-name-" + i;
      registered.add(
          node.addressBook().register(names[i], spawn("named-" + i)).toCompletableFuture());
    }
    for (int i = 0; i < WORKERS; i++) {
      ActorRef<BenchWorker.Command> worker = spawn("receptionist-worker-" + i);
      registered.add(
          AskPattern.<Receptionist.Command, Receptionist.Registered>ask(
                  system.receptionist(),
                  replyTo -> Receptionist.register(SERVICE_KEY, worker, replyTo),
                  TIMEOUT,
                  system.scheduler())
              .toCompletableFuture());
    }
    CompletableFuture.allOf(registered.toArray(CompletableFuture[]::new))
        .orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS)
        .join();

    awaitTrue("100 workers in the group", () -> node.registry().workers(GROUP).size() == WORKERS);
    awaitTrue(
        "100 names in the address book",
        () -> {
          for (String name : names) {
            if (node.addressBook().locate(name).isEmpty()) {
              return false;
            }
          }
          return true;
        });
    awaitTrue("100 workers in the receptionist", () -> receptionistFind().size() == WORKERS);

    Random random = new Random(42);
    keys = new String[KEY_MASK + 1];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "user-" + (100_000 + random.nextInt(900_000));
    }
    lookups = new String[KEY_MASK + 1];
    for (int i = 0; i < lookups.length; i++) {
      lookups[i] = names[random.nextInt(NAMES)];
    }
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
    return node.addressBook().locate(lookups[nextName++ & KEY_MASK]);
  }

  /**
   * The baseline: {@code Receptionist.find} asked of the node's receptionist, waiting for the
   * listing of the 100 workers registered under a plain {@link ServiceKey}.
   */
  @Benchmark
  public Set<ActorRef<BenchWorker.Command>> receptionistFind() {
    Receptionist.Listing listing =
        AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                system.receptionist(),
                replyTo -> Receptionist.find(SERVICE_KEY, replyTo),
                TIMEOUT,
                system.scheduler())
            .toCompletableFuture()
            .join();
    return listing.getServiceInstances(SERVICE_KEY);
  }

  private ActorRef<BenchWorker.Command> spawn(String name) {
    return system.systemActorOf(Behaviors.<BenchWorker.Command>ignore(), name, Props.empty());
  }

  private static void awaitTrue(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("RegistryBench setup: timed out waiting for " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}
