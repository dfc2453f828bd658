package dev.troupe.bench;

import dev.troupe.core.AddressBook;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.WorkerRegistry;
import dev.troupe.testkit.ChildNode;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The node JVM of {@link ScaleBench}: a {@link ChildNode} with commands to spawn a burst's workers,
 * register them all at once, stop them, and watch another node's view until it holds all of them or
 * none. Commands that take long run in a thread of their own, so that standard input stays
 * responsive; each answers with a {@code TROUPE-SCALE ...} line. Times are wall-clock epoch
 * microseconds: all nodes run on one machine, so the driver subtracts times of different JVMs.
 *
 * <p>A burst is named {@code main} (the measured one: groups and keys {@code g-0 .. g-99}, names
 * {@code n-<i>}) or {@code warm} (the warm-up: {@code warm-g-..}, {@code warm-n-..}). Systems:
 * {@code registry} ({@code node.registry()}), {@code address-book} ({@code node.addressBook()}) and
 * {@code receptionist} (Pekko's receptionist, with whatever settings the node was started with).
 *
 * <ul>
 *   <li>{@code spawn <burst> <n>}: n idle workers, children of one parent actor; answers {@code
 *       spawned <burst> <n>}.
 *   <li>{@code register <system> <burst> <capMillis> <inFlight>}: registers every worker of the
 *       burst, worker i in group/key {@code g-(i mod 100)} or under name {@code n-i}, as fast as
 *       possible with at most {@code inFlight} calls unanswered; answers {@code burst-start <burst>
 *       <micros>} just before the first call, {@code burst-issued <burst> <issued> <micros>} and
 *       {@code burst-done <burst> <ok> <failed> <unfinished> <micros>}, where unfinished calls are
 *       those not answered (or not issued) within the cap; {@code failure <burst> <text>} gives the
 *       first failure. The receptionist takes a plain {@code tell}: it has no answer to count
 *       ({@code ok} and {@code failed} are -1).
 *   <li>{@code stop <burst>}: answers {@code stop-start <burst> <micros>} and stops the parent,
 *       which stops every worker of the burst.
 *   <li>{@code subscribe <burst>}: a {@code Receptionist.subscribe} listener for the burst's 100
 *       keys; answers {@code subscribed <burst>} when the first listing of every key has arrived.
 *   <li>{@code watch <visible|gone> <system> <burst> <n> <capMillis>}: polls this node's view every
 *       millisecond until it lists all n workers of the burst (visible) or none (gone); answers
 *       {@code watching <burst> <phase>} when it starts, then {@code seen <burst> <phase> <micros>
 *       <count>} or, after the cap, {@code timeout <burst> <phase> <count>} (count: entries
 *       listed), and {@code progress <burst> <phase> <count>} every 5 s in between.
 *   <li>{@code heap}: the heap in use after full collections; answers {@code heap <bytes>}.
 *   <li>{@code mark <label>}: answers {@code mark <label>}, a position in the node's output.
 *   <li>{@code profile start <file>} / {@code profile stop}: a JDK Flight Recorder recording
 *       (settings "profile", execution samples every millisecond) from start until stop, written to
 *       the file; answers {@code profile started} / {@code profile stopped <file>}.
 * </ul>
 */
public final class ScaleNode {
  /** Groups (registry) and service keys (receptionist) a burst is spread over. */
  static final int GROUPS = 100;

  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** How often a watch reports how many entries it lists (for a run that breaks off). */
  private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static final Duration SPAWN_TIMEOUT = Duration.ofMinutes(5);

  /** The parent and workers of each burst. */
  private static final Map<String, ActorRef<Parent>> PARENTS = new ConcurrentHashMap<>();

  private static final Map<String, List<ActorRef<BenchWorker.Command>>> WORKERS =
      new ConcurrentHashMap<>();

  /** Per burst: the size of the latest receptionist listing of each key. */
  private static final Map<String, AtomicIntegerArray> LISTED = new ConcurrentHashMap<>();

  private ScaleNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "spawn", ScaleNode::spawn,
            "register", ScaleNode::register,
            "stop", ScaleNode::stop,
            "subscribe", ScaleNode::subscribe,
            "watch", ScaleNode::watch,
            "heap", (node, argument) -> emit("heap", Long.toString(heapAfterGc())),
            "mark", (node, argument) -> emit("mark", argument.trim()),
            "profile", ScaleNode::profile));
  }

  static String prefix(String burst) {
    return switch (burst) {
      case "main" -> "";
      case "warm" -> "warm-";
      default -> throw new IllegalArgumentException("burst must be main or warm, got: " + burst);
    };
  }

  static String groupName(String burst, int i) {
    return prefix(burst) + "g-" + (i % GROUPS);
  }

  static String name(String burst, int i) {
    return prefix(burst) + "n-" + i;
  }

  private static WorkerGroup<BenchWorker.Command> group(String burst, int g) {
    return WorkerGroup.of(groupName(burst, g), BenchWorker.Command.class);
  }

  private static ServiceKey<BenchWorker.Command> key(String burst, int g) {
    return ServiceKey.create(BenchWorker.Command.class, groupName(burst, g));
  }

  /** The number of workers {@code i < n} with {@code i mod GROUPS == g}. */
  static int expectedInGroup(int n, int g) {
    return n / GROUPS + (g < n % GROUPS ? 1 : 0);
  }

  static long micros() {
    return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
  }

  private static void emit(String... fields) {
    ChildNode.emit("SCALE", fields);
  }

  private static void startThread(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  private static jdk.jfr.Recording recording;

  private static synchronized void profile(TroupeNode node, String argument) throws Exception {
    String[] a = argument.trim().split(" ", 2);
    if (a[0].equals("start")) {
      if (recording != null) {
        throw new IllegalStateException("a profile is already recording");
      }
      recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
      recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
      recording.setDestination(java.nio.file.Path.of(a[1]));
      recording.start();
      emit("profile", "started");
    } else if (a[0].equals("stop")) {
      if (recording == null) {
        throw new IllegalStateException("no profile is recording");
      }
      java.nio.file.Path file = recording.getDestination();
      recording.stop();
      recording.close();
      recording = null;
      emit("profile", "stopped", file.toString());
    } else {
      throw new IllegalArgumentException("profile start <file> | profile stop, got: " + argument);
    }
  }

  // ---- the workers' parent --------------------------------------------------------------------

  /** The protocol of a burst's parent actor (local only). */
  private sealed interface Parent {}

  private record Spawn(int count, ActorRef<Spawned> replyTo) implements Parent {}

  private record Spawned(List<ActorRef<BenchWorker.Command>> workers) {}

  private enum StopAll implements Parent {
    INSTANCE
  }

  private static Behavior<Parent> parent() {
    return Behaviors.setup(
        ctx ->
            Behaviors.receive(Parent.class)
                .onMessage(
                    Spawn.class,
                    spawn -> {
                      List<ActorRef<BenchWorker.Command>> workers = new ArrayList<>(spawn.count());
                      for (int i = 0; i < spawn.count(); i++) {
                        workers.add(ctx.spawn(BenchWorker.create(), "w-" + i));
                      }
                      spawn.replyTo().tell(new Spawned(List.copyOf(workers)));
                      return Behaviors.same();
                    })
                .onMessageEquals(StopAll.INSTANCE, Behaviors::stopped)
                .build());
  }

  private static void spawn(TroupeNode node, String argument) throws Exception {
    String[] a = argument.trim().split(" ");
    String burst = a[0];
    int count = Integer.parseInt(a[1]);
    prefix(burst);
    ActorSystem<Void> system = node.system();
    ActorRef<Parent> parent = system.systemActorOf(parent(), "scale-" + burst, Props.empty());
    PARENTS.put(burst, parent);
    startThread(
        "scale-spawn-" + burst,
        () -> {
          Spawned spawned =
              AskPattern.<Parent, Spawned>ask(
                      parent,
                      replyTo -> new Spawn(count, replyTo),
                      SPAWN_TIMEOUT,
                      system.scheduler())
                  .toCompletableFuture()
                  .join();
          WORKERS.put(burst, spawned.workers());
          emit("spawned", burst, Integer.toString(spawned.workers().size()));
        });
  }

  private static void stop(TroupeNode node, String argument) {
    String burst = argument.trim();
    ActorRef<Parent> parent = PARENTS.get(burst);
    if (parent == null) {
      throw new IllegalStateException("no workers spawned for burst [" + burst + "]");
    }
    emit("stop-start", burst, Long.toString(micros()));
    parent.tell(StopAll.INSTANCE);
  }

  // ---- the burst ------------------------------------------------------------------------------

  private static void register(TroupeNode node, String argument) {
    String[] a = argument.trim().split(" ");
    String system = a[0];
    String burst = a[1];
    long capNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(a[2]));
    int inFlight = Integer.parseInt(a[3]);
    List<ActorRef<BenchWorker.Command>> workers = WORKERS.get(burst);
    if (workers == null) {
      throw new IllegalStateException("no workers spawned for burst [" + burst + "]");
    }
    switch (system) {
      case "registry", "address-book" ->
          startThread(
              "scale-burst-" + burst,
              () -> callBurst(node, system, burst, workers, capNanos, inFlight));
      case "receptionist" ->
          startThread("scale-burst-" + burst, () -> tellBurst(node, burst, workers));
      default -> throw new IllegalArgumentException("unknown system [" + system + "]");
    }
  }

  /** Registry and address book: calls that answer, at most {@code inFlight} unanswered. */
  private static void callBurst(
      TroupeNode node,
      String system,
      String burst,
      List<ActorRef<BenchWorker.Command>> workers,
      long capNanos,
      int inFlight) {
    int n = workers.size();
    List<WorkerGroup<BenchWorker.Command>> groups = new ArrayList<>(GROUPS);
    for (int g = 0; g < GROUPS; g++) {
      groups.add(group(burst, g));
    }
    WorkerRegistry registry = node.registry();
    AddressBook addressBook = node.addressBook();
    boolean toRegistry = system.equals("registry");
    Semaphore permits = new Semaphore(inFlight);
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicBoolean reported = new AtomicBoolean();
    long deadline = System.nanoTime() + capNanos;
    emit("burst-start", burst, Long.toString(micros()));
    int issued = 0;
    try {
      for (int i = 0; i < n; i++) {
        if (!permits.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          break;
        }
        CompletionStage<?> call;
        try {
          call =
              toRegistry
                  ? registry.register(groups.get(i % GROUPS), workers.get(i))
                  : addressBook.register(name(burst, i), workers.get(i));
        } catch (RuntimeException e) {
          call = CompletableFuture.failedFuture(e);
        }
        issued++;
        call.whenComplete(
            (done, error) -> {
              if (error == null) {
                ok.incrementAndGet();
              } else {
                failed.incrementAndGet();
                if (reported.compareAndSet(false, true)) {
                  emit("failure", burst, String.valueOf(error).replace('\n', ' '));
                }
              }
              permits.release();
            });
      }
      emit("burst-issued", burst, Integer.toString(issued), Long.toString(micros()));
      // Every call answered: all permits back, or the cap.
      if (permits.tryAcquire(
          inFlight, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        permits.release(inFlight);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long okCount = ok.get();
    long failedCount = failed.get();
    emit(
        "burst-done",
        burst,
        Long.toString(okCount),
        Long.toString(failedCount),
        Long.toString(n - okCount - failedCount),
        Long.toString(micros()));
  }

  /** The receptionist: a plain tell per worker, nothing to count. */
  private static void tellBurst(
      TroupeNode node, String burst, List<ActorRef<BenchWorker.Command>> workers) {
    List<ServiceKey<BenchWorker.Command>> keys = new ArrayList<>(GROUPS);
    for (int g = 0; g < GROUPS; g++) {
      keys.add(key(burst, g));
    }
    ActorRef<Receptionist.Command> receptionist = node.system().receptionist();
    emit("burst-start", burst, Long.toString(micros()));
    for (int i = 0; i < workers.size(); i++) {
      receptionist.tell(Receptionist.register(keys.get(i % GROUPS), workers.get(i)));
    }
    long at = micros();
    emit("burst-issued", burst, Integer.toString(workers.size()), Long.toString(at));
    emit("burst-done", burst, "-1", "-1", "0", Long.toString(at));
  }

  // ---- observing ------------------------------------------------------------------------------

  private static void subscribe(TroupeNode node, String argument) {
    String burst = argument.trim();
    AtomicIntegerArray listed = new AtomicIntegerArray(GROUPS);
    LISTED.put(burst, listed);
    node.system().systemActorOf(listener(burst, listed), "scale-listener-" + burst, Props.empty());
  }

  /** Subscribes to the burst's keys and keeps the size of each key's latest listing. */
  private static Behavior<Receptionist.Listing> listener(String burst, AtomicIntegerArray listed) {
    return Behaviors.setup(
        ctx -> {
          Map<ServiceKey<?>, Integer> index = new HashMap<>();
          List<ServiceKey<BenchWorker.Command>> keys = new ArrayList<>(GROUPS);
          for (int g = 0; g < GROUPS; g++) {
            ServiceKey<BenchWorker.Command> key = key(burst, g);
            keys.add(key);
            index.put(key, g);
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(key, ctx.getSelf()));
          }
          boolean[] first = new boolean[GROUPS];
          int[] firsts = {0};
          return Behaviors.receiveMessage(
              listing -> {
                int g = index.get(listing.getKey());
                listed.set(g, listing.getServiceInstances(keys.get(g)).size());
                if (!first[g]) {
                  first[g] = true;
                  if (++firsts[0] == GROUPS) {
                    emit("subscribed", burst);
                  }
                }
                return Behaviors.same();
              });
        });
  }

  private static void watch(TroupeNode node, String argument) {
    String[] a = argument.trim().split(" ");
    boolean visible =
        switch (a[0]) {
          case "visible" -> true;
          case "gone" -> false;
          default -> throw new IllegalArgumentException("phase must be visible or gone: " + a[0]);
        };
    String system = a[1];
    String burst = a[2];
    int n = Integer.parseInt(a[3]);
    long capNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(a[4]));
    View view =
        switch (system) {
          case "registry" -> new RegistryView(node.registry(), burst, n, visible);
          case "address-book" -> new AddressBookView(node.addressBook(), burst, n, visible);
          case "receptionist" -> {
            AtomicIntegerArray listed = LISTED.get(burst);
            if (listed == null) {
              throw new IllegalStateException("subscribe " + burst + " first");
            }
            yield new ReceptionistView(listed, visible ? n : 0);
          }
          default -> throw new IllegalArgumentException("unknown system [" + system + "]");
        };
    String phase = a[0];
    startThread(
        "scale-watch-" + burst + "-" + phase,
        () -> {
          long deadline = System.nanoTime() + capNanos;
          long nextProgress = System.nanoTime() + PROGRESS_NANOS;
          emit("watching", burst, phase);
          while (true) {
            long at = view.poll();
            if (at > 0) {
              emit("seen", burst, phase, Long.toString(at), Integer.toString(view.listed()));
              return;
            }
            long now = System.nanoTime();
            if (now - deadline > 0) {
              emit("timeout", burst, phase, Integer.toString(view.listed()));
              return;
            }
            if (now - nextProgress > 0) {
              emit("progress", burst, phase, Integer.toString(view.listed()));
              nextProgress = now + PROGRESS_NANOS;
            }
            LockSupport.parkNanos(POLL_NANOS);
          }
        });
  }

  /** A node's view of one burst, polled until it reaches its target. */
  private interface View {
    /**
     * Polls the view; returns the time (epoch micros) at which it was seen at its target, or 0 if
     * it is not there yet.
     */
    long poll();

    /** The entries of the burst the view lists now (counted in full). */
    int listed();
  }

  /**
   * {@code workers(group)} of every group at its target, then {@code allWorkers()} too. Only the
   * groups not yet at their target are read at each poll; when all are, one {@code allWorkers()}
   * confirms the total, or every group is read again.
   */
  private static final class RegistryView implements View {
    private final WorkerRegistry registry;
    private final List<WorkerGroup<BenchWorker.Command>> groups = new ArrayList<>();
    private final int[] target = new int[GROUPS];
    private final List<Integer> pending = new ArrayList<>();
    private final int total;

    RegistryView(WorkerRegistry registry, String burst, int n, boolean visible) {
      this.registry = registry;
      for (int g = 0; g < GROUPS; g++) {
        groups.add(group(burst, g));
        target[g] = visible ? expectedInGroup(n, g) : 0;
        pending.add(g);
      }
      this.total = visible ? n : 0;
    }

    @Override
    public long poll() {
      pending.removeIf(g -> registry.workers(groups.get(g)).size() == target[g]);
      if (!pending.isEmpty()) {
        return 0;
      }
      long at = micros();
      if (allWorkers() == total) {
        return at;
      }
      for (int g = 0; g < GROUPS; g++) {
        pending.add(g);
      }
      return 0;
    }

    private int allWorkers() {
      Map<String, List<WorkerEntry<?>>> all = registry.allWorkers();
      int count = 0;
      for (WorkerGroup<?> group : groups) {
        count += all.getOrDefault(group.name(), List.of()).size();
      }
      return count;
    }

    @Override
    public int listed() {
      int count = 0;
      for (WorkerGroup<BenchWorker.Command> group : groups) {
        count += registry.workers(group).size();
      }
      return count;
    }
  }

  /**
   * {@code locate(name)} of every name present (visible) or empty (gone), read with a sliding
   * index: the first name not yet at its target is read again at the next poll, those before it are
   * not. When the index reaches the end, one pass over all names confirms it.
   */
  private static final class AddressBookView implements View {
    private final AddressBook book;
    private final String burst;
    private final int n;
    private final boolean visible;
    private int next;

    AddressBookView(AddressBook book, String burst, int n, boolean visible) {
      this.book = book;
      this.burst = burst;
      this.n = n;
      this.visible = visible;
    }

    private boolean atTarget(int i) {
      return book.locate(name(burst, i)).isPresent() == visible;
    }

    @Override
    public long poll() {
      while (next < n && atTarget(next)) {
        next++;
      }
      if (next < n) {
        return 0;
      }
      long at = micros();
      for (int i = 0; i < n; i++) {
        if (!atTarget(i)) {
          next = i;
          return 0;
        }
      }
      return at;
    }

    @Override
    public int listed() {
      int count = 0;
      for (int i = 0; i < n; i++) {
        count += book.locate(name(burst, i)).isPresent() ? 1 : 0;
      }
      return count;
    }
  }

  /** The sum of the latest listing sizes of the burst's keys (kept by the listener). */
  private static final class ReceptionistView implements View {
    private final AtomicIntegerArray listed;
    private final int target;

    ReceptionistView(AtomicIntegerArray listed, int target) {
      this.listed = listed;
      this.target = target;
    }

    @Override
    public long poll() {
      long at = micros();
      return listed() == target ? at : 0;
    }

    @Override
    public int listed() {
      int count = 0;
      for (int g = 0; g < listed.length(); g++) {
        count += listed.get(g);
      }
      return count;
    }
  }

  // ---- heap -----------------------------------------------------------------------------------

  /**
   * The heap in use after full collections (System.gc() is a full collection with G1, Serial,
   * Parallel).
   */
  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200); // lets reference processing and cleaners run between collections
    }
    System.gc();
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
        used += pool.getCollectionUsage().getUsed();
      }
    }
    return used > 0 ? used : ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
