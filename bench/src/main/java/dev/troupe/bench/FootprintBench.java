package dev.troupe.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Heap per idle actor and spawn rate on one node: bare Pekko typed actors, raw Pekko sharding
 * entities and Troupe fleet workers; written as JSON tables for {@link PerformanceReport}.
 *
 * <p>Each kind runs in a JVM of its own ({@code --mode bare|raw|fleet}; {@code bench/run} starts
 * them with {@code -Xmx8g -XX:+UseParallelGC}), so that none inherits the garbage or the classes of
 * another. In each, one embedded {@link TroupeNode} (port 0) starts; then
 *
 * <ol>
 *   <li>the heap is measured: {@code System.gc()} three times, then the heap in use;
 *   <li>{@code --workers} actors start, each counting itself in its {@code Behaviors.setup} and
 *       then idling ({@code Behaviors.receiveMessage(m -> same())}):
 *       <ul>
 *         <li>{@code bare}: children of one parent actor, named {@code w-<i>}, spawned by the
 *             parent in batches of {@value #BATCH} per message;
 *         <li>{@code raw}: entities of a plain sharded entity type (Pekko's defaults: 1000 shards,
 *             the default message extractor, idle passivation after 120 s), each started by a
 *             message told to its shard region in a {@code ShardingEnvelope};
 *         <li>{@code fleet}: workers of a {@link WorkerFleet} with {@code Duration.ZERO} idle
 *             timeout (never passivated; {@value dev.troupe.core.HashRing#PARTITIONS} shards), each
 *             started by {@code fleet.tell(key, message)};
 *       </ul>
 *       at most {@value #WINDOW} sent but not yet started at any time (below sharding's {@code
 *       buffer-size} of 100,000, so that no message is dropped while shards are allocated);
 *   <li>when all have started, and after a second for the last messages, the heap is measured
 *       again: bytes per actor = Δheap / workers;
 *   <li>spawn rate: actors per second from the first message after a warm-up (the first 5 % of the
 *       actors) until the last of them has run its setup.
 * </ol>
 *
 * <p>{@code --mode report} reads the three results and writes the tables.
 *
 * <p>Usage: {@code FootprintBench --mode bare|raw|fleet [--workers 1000000] [--output
 * bench/target/footprint/<mode>.json]} and {@code FootprintBench --mode report [--output
 * bench/results/footprint.json] part.json...}. Run from the repository root ({@code bench/run}
 * does).
 */
public final class FootprintBench {
  static final int BATCH = 1000;
  static final int WINDOW = 50_000;
  static final int TOP_CLASSES = 80;
  static final int MIN_CLASS_BYTES = 16;
  static final int SAME_CLASS_BYTES = 8;
  private static final Pattern LAMBDA = Pattern.compile("\\$\\$Lambda\\$\\d+/0x[0-9a-f]+");
  private static final double BYTES_GOAL = 1.5;
  private static final double RATE_GOAL = 0.9;
  private static final Duration TIMEOUT = Duration.ofMinutes(10);
  private static final EntityTypeKey<Message> RAW_TYPE =
      EntityTypeKey.create(Message.class, "footprint-raw");

  /** The one message: starts a sharded entity or fleet worker. */
  public enum Message {
    WAKE
  }

  /** Makes the parent of the bare actors spawn children {@code from} (inclusive) to {@code to}. */
  private record SpawnRange(int from, int to) {}

  private FootprintBench() {}

  public static void main(String[] args) throws Exception {
    String mode = null;
    int workers = 1_000_000;
    Path output = null;
    List<Path> parts = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--mode" -> mode = Figures.value(args, ++i, "--mode");
        case "--workers" -> workers = Figures.intOption(args, ++i, "--workers", 1000);
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> {
          if (args[i].startsWith("--")) {
            usage();
          }
          parts.add(Path.of(args[i]));
        }
      }
    }
    if (mode == null) {
      usage();
    }
    switch (mode) {
      case "bare", "raw", "fleet" -> {
        measure(
            mode,
            workers,
            output != null ? output : Path.of("bench/target/footprint/" + mode + ".json"));
        System.exit(0); // the node's threads are not daemons
      }
      case "report" ->
          report(output != null ? output : Path.of("bench/results/footprint.json"), parts);
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println(
        "usage: FootprintBench --mode bare|raw|fleet [--workers 1000000] [--output file.json]\n"
            + "       FootprintBench --mode report [--output bench/results/footprint.json]"
            + " bare.json raw.json fleet.json");
    System.exit(2);
  }

  // ---- one kind, in this JVM ----

  private static void measure(String mode, int workers, Path output) throws Exception {
    long begin = System.nanoTime();
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("footprint-" + mode)
                .port(0)
                .config(
                    String.join(
                        "\n",
                        "pekko.log-dead-letters = off",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
                .build());
    node.whenUp().toCompletableFuture().get(60, TimeUnit.SECONDS);
    AtomicLong started = new AtomicLong();
    IntConsumer send =
        switch (mode) {
          case "bare" -> {
            ActorRef<SpawnRange> parent =
                node.system().systemActorOf(parent(started), "footprint-parent", Props.empty());
            yield i -> {
              if (i % BATCH == 0) {
                parent.tell(new SpawnRange(i, Math.min(i + BATCH, workers)));
              }
            };
          }
          case "raw" -> {
            ActorRef<ShardingEnvelope<Message>> region =
                ClusterSharding.get(node.system()).init(Entity.of(RAW_TYPE, ctx -> idle(started)));
            yield i -> region.tell(new ShardingEnvelope<>(name(i), Message.WAKE));
          }
          default -> {
            WorkerFleet<Message> fleet =
                WorkerFleet.start(
                    node,
                    FleetSpec.of("footprint", Message.class, key -> idle(started))
                        .withIdleTimeout(Duration.ZERO));
            yield i -> fleet.tell(name(i), Message.WAKE);
          }
        };
    Thread.sleep(2000); // let the node, the region and the coordinator settle
    long heapBefore = heapAfterGc();
    Map<String, long[]> classesBefore = classHistogram();

    int warmup = workers / 20 / BATCH * BATCH;
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    startAll(send, started, 0, warmup, deadline);
    long t0 = System.nanoTime();
    startAll(send, started, warmup, workers, deadline);
    long t1 = System.nanoTime();
    double rate = (workers - warmup) / ((t1 - t0) / 1e9);

    Thread.sleep(1000); // the last messages
    long heapAfter = heapAfterGc();
    List<Map<String, Object>> classes = classDelta(classesBefore, classHistogram(), workers);
    if (started.get() != workers) {
      throw new IllegalStateException(started.get() + " of " + workers + " started");
    }
    double bytes = (double) (heapAfter - heapBefore) / workers;
    System.out.printf(
        Locale.ROOT,
        "%s: %,d actors, heap %,d -> %,d bytes: %.0f bytes per actor; %,.0f spawns/s%n",
        mode,
        workers,
        heapBefore,
        heapAfter,
        bytes,
        rate);

    Map<String, Object> part = new LinkedHashMap<>();
    part.put("mode", mode);
    part.put("workers", workers);
    part.put("warmupWorkers", warmup);
    part.put("heapBeforeBytes", heapBefore);
    part.put("heapAfterBytes", heapAfter);
    part.put("bytesPerWorker", bytes);
    part.put("classes", classes);
    part.put("spawnSeconds", (t1 - t0) / 1e9);
    part.put("spawnsPerSecond", rate);
    part.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    part.put("jvmArgs", ManagementFactory.getRuntimeMXBean().getInputArguments());
    part.put("jvm", System.getProperty("java.vm.version"));
    part.put("cpus", Runtime.getRuntime().availableProcessors());
    part.put("seconds", (System.nanoTime() - begin) / 1e9);
    Figures.write(output, FootprintBench.class, Map.of("mode", mode), List.of(), part);
    // main exits the JVM: a graceful stop would hand off every shard first, for nothing.
  }

  /** Sends to actors {@code from} until {@code to}, at most {@link #WINDOW} unstarted at once. */
  private static void startAll(
      IntConsumer send, AtomicLong started, int from, int to, long deadline) {
    for (int i = from; i < to; i++) {
      while (i - started.get() >= WINDOW) {
        LockSupport.parkNanos(20_000);
        checkDeadline(deadline, started, to);
      }
      send.accept(i);
    }
    while (started.get() < to) {
      LockSupport.parkNanos(20_000);
      checkDeadline(deadline, started, to);
    }
  }

  private static void checkDeadline(long deadline, AtomicLong started, int expected) {
    if (System.nanoTime() - deadline > 0) {
      throw new IllegalStateException(
          "timed out: " + started.get() + " of " + expected + " actors started");
    }
  }

  /** An idle actor that counts itself once started. */
  private static <T> Behavior<T> idle(AtomicLong started) {
    return Behaviors.setup(
        ctx -> {
          started.incrementAndGet();
          return Behaviors.receiveMessage(message -> Behaviors.same());
        });
  }

  /** The parent of the bare actors. */
  private static Behavior<SpawnRange> parent(AtomicLong started) {
    return Behaviors.receive(
        (ctx, range) -> {
          for (int i = range.from(); i < range.to(); i++) {
            ctx.spawn(FootprintBench.<Void>idle(started), name(i));
          }
          return Behaviors.same();
        });
  }

  private static String name(int i) {
    return "w-" + i;
  }

  /** The heap in use after three full collections. */
  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
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

  /** Instances and bytes by class name of the live heap (jcmd's GC.class_histogram). */
  private static Map<String, long[]> classHistogram() throws Exception {
    String text =
        (String)
            ManagementFactory.getPlatformMBeanServer()
                .invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
    Map<String, long[]> classes = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = HISTOGRAM_LINE.matcher(line);
      if (m.find()) {
        classes.put(
            m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    return classes;
  }

  private static final Pattern HISTOGRAM_LINE =
      Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  /** The {@value #TOP_CLASSES} classes that grew most, per actor. */
  private static List<Map<String, Object>> classDelta(
      Map<String, long[]> before, Map<String, long[]> after, int workers) {
    List<Map<String, Object>> grown = new ArrayList<>();
    after.forEach(
        (name, counts) -> {
          long[] old = before.getOrDefault(name, new long[2]);
          long bytes = counts[1] - old[1];
          if (bytes > 0) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("class", name);
            entry.put("instancesPerActor", (double) (counts[0] - old[0]) / workers);
            entry.put("bytesPerActor", (double) bytes / workers);
            grown.add(entry);
          }
        });
    grown.sort(
        Comparator.comparingDouble((Map<String, Object> e) -> (double) e.get("bytesPerActor"))
            .reversed());
    return grown.subList(0, Math.min(TOP_CLASSES, grown.size()));
  }

  // ---- the report ----

  private static void report(Path output, List<Path> parts) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Map<String, JsonNode> byMode = new LinkedHashMap<>();
    for (Path part : parts) {
      JsonNode data = json.readTree(part.toFile()).path("data");
      byMode.put(data.path("mode").asText(), data);
    }
    for (String mode : List.of("bare", "raw", "fleet")) {
      if (!byMode.containsKey(mode)) {
        throw new IllegalArgumentException("no result for mode [" + mode + "] in " + parts);
      }
    }
    JsonNode bare = byMode.get("bare");
    JsonNode raw = byMode.get("raw");
    JsonNode fleet = byMode.get("fleet");
    double bareBytes = bare.path("bytesPerWorker").asDouble();
    double rawRate = raw.path("spawnsPerSecond").asDouble();
    double fleetBytesRatio = fleet.path("bytesPerWorker").asDouble() / bareBytes;
    double fleetRateRatio = fleet.path("spawnsPerSecond").asDouble() / rawRate;

    List<List<Object>> rows = new ArrayList<>();
    rows.add(row("Baseline: bare Pekko typed actors, children of one parent", bare, bare, raw));
    rows.add(
        row(
            "Raw Pekko sharding entities (defaults: 1000 shards, idle passivation on)",
            raw,
            bare,
            raw));
    List<Object> fleetRow =
        row("Troupe fleet workers (idle timeout 0, 10240 shards)", fleet, bare, raw);
    rows.add(fleetRow);
    rows.get(0).addAll(List.of("—", "—"));
    rows.get(1).addAll(List.of("—", "—"));
    fleetRow.add(fleetBytesRatio <= BYTES_GOAL ? "met" : "**not met**");
    fleetRow.add(fleetRateRatio >= RATE_GOAL ? "met" : "**not met**");

    long workers = fleet.path("workers").asLong();
    String description =
        "One embedded node per kind, each in a fresh JVM ("
            + String.join(" ", jvmFlags(fleet))
            + ", compressed oops). Heap in use after System.gc() before the first and after"
            + " the last actor started; bytes per actor = Δheap ÷ actors. Each actor counts"
            + " itself in its Behaviors.setup and then idles. The two sharded kinds carry the"
            + " bookkeeping of their shards (the shard actors and their entity maps: 1000"
            + " shards for raw sharding, 10240 for the fleet, whose shards are ring"
            + " partitions) as well as the fleet's own per-worker record (its supervisors,"
            + " interceptors and the activity entry of idle passivation) in their figures;"
            + " bare actors carry only the parent's child table. Spawn rate: actors per second"
            + " from the first message after a warm-up of the first 5 % until the last one has"
            + " run its setup, with at most "
            + Figures.count(WINDOW)
            + " sent but not started at once (so that no shard buffer overflows). Goals: fleet"
            + " bytes per worker ≤ "
            + BYTES_GOAL
            + "× the bare actor's, fleet spawn rate ≥ "
            + RATE_GOAL
            + "× raw sharding's.";
    Map<String, Object> table =
        Figures.table(
            "Footprint: " + Figures.count(workers) + " idle actors on one node",
            description,
            new ArrayList<>(
                List.of(
                    "Actors",
                    "Count",
                    "Heap Δ MB",
                    "Bytes per actor",
                    "× bare (bytes)",
                    "Spawns per s",
                    "× raw sharding (rate)",
                    "Bytes ≤ 1.5× bare",
                    "Rate ≥ 0.9× raw")),
            rows);
    Map<String, Object> classes = classTable(bare, raw, fleet);
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("workers", workers);
    parameters.put("window", WINDOW);
    parameters.put("jvmArgs", String.join(" ", jvmFlags(fleet)));
    parameters.put("cpus", fleet.path("cpus").asInt());
    parameters.put("jvm", fleet.path("jvm").asText());
    Figures.write(
        output,
        FootprintBench.class,
        parameters,
        List.of(table, classes),
        List.of(bare, raw, fleet));
    System.out.printf(
        Locale.ROOT,
        "Footprint: fleet %.2fx bare bytes, %.2fx raw spawn rate; written to %s%n",
        fleetBytesRatio,
        fleetRateRatio,
        output);
  }

  /** Bytes per actor by class: the classes that grew by at least 8 bytes per actor in any kind. */
  private static Map<String, Object> classTable(JsonNode... kinds) {
    List<Map<String, double[]>> perKind = new ArrayList<>();
    Map<String, Double> fleetBytes = new LinkedHashMap<>();
    for (JsonNode kind : kinds) {
      Map<String, double[]> byClass = new HashMap<>();
      for (JsonNode entry : kind.path("classes")) {
        // Lambda classes are named by address: one row for the lambdas of a class.
        String name = LAMBDA.matcher(entry.path("class").asText()).replaceAll("\\$\\$Lambda");
        double[] figures = byClass.computeIfAbsent(name, n -> new double[2]);
        figures[0] += entry.path("bytesPerActor").asDouble();
        figures[1] += entry.path("instancesPerActor").asDouble();
      }
      perKind.add(byClass);
    }
    List<String> names = new ArrayList<>();
    for (Map<String, double[]> byClass : perKind) {
      byClass.forEach(
          (name, figures) -> {
            if (figures[0] >= MIN_CLASS_BYTES && !names.contains(name)) {
              names.add(name);
            }
          });
    }
    for (String name : names) {
      double most = 0;
      for (Map<String, double[]> byClass : perKind) {
        most = Math.max(most, byClass.getOrDefault(name, new double[2])[0]);
      }
      fleetBytes.put(name, perKind.get(2).getOrDefault(name, new double[2])[0] * 1e6 + most);
    }
    names.sort(Comparator.comparingDouble((String n) -> fleetBytes.get(n)).reversed());
    // Classes with (about) the same bytes per actor in every kind go into one row.
    List<String> same = new ArrayList<>();
    for (String name : names) {
      double least = Double.MAX_VALUE;
      double most = 0;
      for (Map<String, double[]> byClass : perKind) {
        double bytes = byClass.getOrDefault(name, new double[2])[0];
        least = Math.min(least, bytes);
        most = Math.max(most, bytes);
      }
      if (most - least < SAME_CLASS_BYTES) {
        same.add(name);
      }
    }
    List<List<Object>> rows = new ArrayList<>();
    for (String name : names) {
      if (same.contains(name)) {
        continue;
      }
      List<Object> row = new ArrayList<>();
      row.add("`" + shortClass(name) + "`");
      for (Map<String, double[]> byClass : perKind) {
        double[] figures = byClass.get(name);
        row.add(
            figures == null
                ? "—"
                : String.format(Locale.ROOT, "%.0f (%.2f)", figures[0], figures[1])
                    .replace("-0.00", "0.00"));
      }
      rows.add(row);
    }
    List<Object> shared = new ArrayList<>();
    shared.add(
        "the same in all three kinds: "
            + same.size()
            + " classes of a typed actor ("
            + String.join(", ", same.stream().limit(6).map(n -> "`" + shortClass(n) + "`").toList())
            + ", …)");
    for (Map<String, double[]> byClass : perKind) {
      double bytes = 0;
      for (String name : same) {
        bytes += byClass.getOrDefault(name, new double[2])[0];
      }
      shared.add(String.format(Locale.ROOT, "%.0f", bytes));
    }
    rows.add(shared);
    List<Object> other = new ArrayList<>();
    other.add("other classes (and Δheap − Δhistogram)");
    List<Object> total = new ArrayList<>();
    total.add("**all classes**");
    for (int k = 0; k < kinds.length; k++) {
      double listed = 0;
      for (String name : names) {
        listed += perKind.get(k).getOrDefault(name, new double[2])[0];
      }
      double all = kinds[k].path("bytesPerWorker").asDouble();
      other.add(String.format(Locale.ROOT, "%.0f", all - listed));
      total.add(String.format(Locale.ROOT, "**%.0f**", all));
    }
    rows.add(other);
    rows.add(total);
    return Figures.table(
        "Footprint: where the bytes per actor go",
        "Growth of the live heap by class between the two measurements (the JVM's class"
            + " histogram, GC.class_histogram), per actor: bytes (instances) per actor, for the"
            + " classes that grew by at least "
            + MIN_CLASS_BYTES
            + " bytes per actor in one of the kinds and differ by "
            + SAME_CLASS_BYTES
            + " or more between kinds, sorted by the fleet's; the classes that do not differ are"
            + " summed in one row. Fractions of an"
            + " instance per actor are shared structures (shards, maps, their tables). Packages"
            + " shortened: o.a.p = org.apache.pekko, d.t = dev.troupe; the lambdas of a class are"
            + " summed in one row. —: not among the kind's "
            + TOP_CLASSES
            + " most grown classes (a few bytes per actor at most).",
        List.of("Class", "Bare actors", "Raw sharding", "Fleet"),
        rows);
  }

  /** {@code o.a.p.actor.ActorCell}, {@code Object[]}. */
  static String shortClass(String name) {
    if (name.startsWith("[")) {
      String element =
          switch (name.charAt(1)) {
            case 'B' -> "byte";
            case 'C' -> "char";
            case 'I' -> "int";
            case 'J' -> "long";
            case 'Z' -> "boolean";
            case 'L' -> shortClass(name.substring(2, name.length() - 1));
            case '[' -> shortClass(name.substring(1));
            default -> name.substring(1);
          };
      return element + "[]";
    }
    return name.replace("org.apache.pekko.", "o.a.p.")
        .replace("dev.troupe.", "d.t.")
        .replace("java.util.concurrent.", "j.u.c.")
        .replace("java.util.", "j.u.")
        .replace("java.lang.", "");
  }

  private static List<Object> row(String label, JsonNode kind, JsonNode bare, JsonNode raw) {
    double bytes = kind.path("bytesPerWorker").asDouble();
    double rate = kind.path("spawnsPerSecond").asDouble();
    List<Object> row = new ArrayList<>();
    row.add(label);
    row.add(Figures.count(kind.path("workers").asLong()));
    row.add(
        String.format(
            Locale.ROOT,
            "%.0f",
            (kind.path("heapAfterBytes").asLong() - kind.path("heapBeforeBytes").asLong())
                / 1048576.0));
    row.add(String.format(Locale.ROOT, "%.0f", bytes));
    row.add(Figures.times(bytes / bare.path("bytesPerWorker").asDouble()));
    row.add(String.format(Locale.ROOT, "%,.0f", rate));
    row.add(Figures.times(rate / raw.path("spawnsPerSecond").asDouble()));
    return row;
  }

  private static List<String> jvmFlags(JsonNode kind) {
    List<String> flags = new ArrayList<>();
    kind.path("jvmArgs").forEach(a -> flags.add(a.asText()));
    return flags.isEmpty() ? List.of("default JVM flags") : flags;
  }
}
