package dev.troupe.bench;

import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the worker registry and the address book cope with a burst of N registrations, N = 1,000,
 * 10,000 and 100,000, against Pekko's own receptionist; written as a JSON table for {@link
 * PerformanceReport}. Not a JMH benchmark: each figure is one burst, timed end to end.
 *
 * <p>Every (system, N) gets a fresh cluster of three node JVMs ({@link ScaleNode}) on 127.0.0.1
 * with Troupe's shipped settings, so that no run inherits another's entries, tombstones or garbage.
 * Node 1 spawns N idle workers, children of one parent actor, and registers them all as fast as it
 * can (at most {@code --in-flight} calls unanswered); nodes 2 and 3 poll their own view every
 * millisecond. Figures:
 *
 * <ul>
 *   <li><b>visible</b>: from just before the first call until both observers list all N;
 *   <li><b>gone</b>: from stopping the parent (which stops all N workers at once, the way a node's
 *       workers die) until both observers list none;
 *   <li><b>failed calls</b>: registrations that failed or had no answer within the cap;
 *   <li><b>bytes per entry</b>: the observers' heap after full collections (System.gc()) with all N
 *       listed, minus before the burst, over N; the mean of the two observers;
 *   <li><b>heartbeat warnings</b> and <b>unreachable events</b> in the three nodes' output between
 *       the burst's start and its visibility and between the stop and the end of gone.
 * </ul>
 *
 * <p>Systems: {@code registry} ({@code registry().register(WorkerGroup.of("g-" + i % 100, ..),
 * ref)}; visible when the sum over the 100 groups of {@code workers(group).size()} and {@code
 * allWorkers()} both count N), {@code address-book} ({@code addressBook().register("n-" + i, ref)};
 * visible when {@code locate} finds every name), and the baseline {@code receptionist} ({@code
 * Receptionist.register(key, ref)} told to the local receptionist for 100 {@code ServiceKey}s;
 * visible when the {@code Receptionist.subscribe} listings on each observer add up to N) with
 * Pekko's default receptionist settings, and {@code receptionist-tuned}, the same with the settings
 * Troupe gives it (write to all nodes, subscribers told every 10 ms). A measurement that does not
 * finish within its cap is reported as "not within X s" with the count seen.
 *
 * <p>Before the measured burst a warm-up burst ({@code --warmup} entries under other names) is
 * registered, seen, stopped and seen gone, so that the measured one does not run on cold JIT.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.troupe.bench.ScaleBench [--sizes 1000,10000,100000]
 *       [--systems registry,address-book,receptionist,receptionist-tuned] [--cap 60]
 *       [--cap-large 180] [--warmup 100] [--in-flight 2000] [--heap 4g] [--output f]
 * </pre>
 */
public final class ScaleBench {
  /** Troupe's goal: visible at least this many times faster than the receptionist at 10k. */
  private static final int GOAL_RATIO = 20;

  private static final int GOAL_RATIO_AT = 10_000;

  /** Sizes from this one on get {@code --cap-large}. */
  private static final int LARGE = 100_000;

  private static final Duration STEP_TIMEOUT = Duration.ofMinutes(5);

  /** How often a wait looks whether the node it waits for is still running. */
  private static final Duration LIVENESS_CHECK = Duration.ofSeconds(1);

  /** Pekko's own receptionist defaults, over the ones Troupe's reference.conf sets. */
  private static final String PEKKO_RECEPTIONIST_DEFAULTS =
      String.join(
          "\n",
          "pekko.cluster.typed.receptionist.write-consistency = local",
          "pekko.cluster.typed.receptionist.distributed-data.notify-subscribers-interval = 500ms");

  /** What is measured: the system the node commands address, its label and its node config. */
  enum Variant {
    REGISTRY("registry", "registry", "Troupe WorkerRegistry"),
    ADDRESS_BOOK("address-book", "address-book", "Troupe AddressBook"),
    RECEPTIONIST("receptionist", "receptionist", "Pekko receptionist (Pekko's defaults)"),
    RECEPTIONIST_TUNED(
        "receptionist-tuned", "receptionist", "Pekko receptionist (Troupe's tuning)");

    final String id;
    final String nodeSystem;
    final String label;

    Variant(String id, String nodeSystem, String label) {
      this.id = id;
      this.nodeSystem = nodeSystem;
      this.label = label;
    }

    /** The HOCON of every node of a run: Troupe's shipped settings, or Pekko's receptionist's. */
    String config() {
      return this == RECEPTIONIST ? PEKKO_RECEPTIONIST_DEFAULTS : "";
    }

    static Variant of(String id) {
      for (Variant v : values()) {
        if (v.id.equals(id)) {
          return v;
        }
      }
      throw new IllegalArgumentException(
          "unknown system ["
              + id
              + "]; known: registry, address-book, receptionist,"
              + " receptionist-tuned");
    }
  }

  /** The options of one invocation. */
  private record Options(
      List<Integer> sizes,
      List<Variant> variants,
      int capSeconds,
      int capLargeSeconds,
      int warmup,
      int inFlight,
      String heap,
      String gc,
      List<String> jvmArgs,
      Path profileDir,
      Path output) {
    int cap(int n) {
      return n >= LARGE ? capLargeSeconds : capSeconds;
    }
  }

  /** The figures of one (system, N) run; filled in as the run goes. */
  private static final class Run {
    final Variant variant;
    final int n;
    final int capSeconds;

    /** Why the run broke off, for the table; null if it did not. */
    String error;

    /** The phase under way ("setup", "warm-up", "visible", "gone") and when it began. */
    String phase = "setup";

    long phaseStartMicros;
    boolean warmupConverged = true;
    long startMicros;

    /** Time to visible and to gone, in microseconds; -1 if not within the cap. */
    long visibleMicros = -1;

    long goneMicros = -1;

    /** Entries listed at the end of each phase: the fewest (visible) or most (gone) of the two. */
    int visibleListed;

    int goneListed;
    long ok = -1;
    long failed = -1;
    long unfinished;
    long callsDoneMicros = -1;
    String firstFailure;
    long[] heapBefore = new long[2];
    long[] heapAfter = new long[2];
    int heartbeatWarnings;
    int unreachable;
    int heartbeatWarningsWholeRun;
    int unreachableWholeRun;
    String logDir;

    Run(Variant variant, int n, int capSeconds) {
      this.variant = variant;
      this.n = n;
      this.capSeconds = capSeconds;
    }

    /** Whether the visible phase's figures hold: it ran to its end (or to its cap). */
    boolean visibleValid() {
      return error == null || phase.equals("gone");
    }

    double bytesPerEntry() {
      int entries = visibleMicros >= 0 ? n : visibleListed;
      if (entries <= 0) {
        return Double.NaN;
      }
      double delta = 0;
      for (int i = 0; i < 2; i++) {
        delta += heapAfter[i] - heapBefore[i];
      }
      return delta / 2 / entries;
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("system", variant.id);
      m.put("n", n);
      m.put("capSeconds", capSeconds);
      if (error != null) {
        m.put("error", error);
      }
      m.put("warmupConverged", warmupConverged);
      m.put("visibleMicros", visibleMicros);
      m.put("visibleListed", visibleListed);
      m.put("goneMicros", goneMicros);
      m.put("goneListed", goneListed);
      m.put("callsOk", ok);
      m.put("callsFailed", failed);
      m.put("callsUnfinished", unfinished);
      m.put("callsDoneMicros", callsDoneMicros);
      if (firstFailure != null) {
        m.put("firstFailure", firstFailure);
      }
      m.put("heapBefore", heapBefore);
      m.put("heapAfter", heapAfter);
      m.put("bytesPerEntry", Double.isNaN(bytesPerEntry()) ? null : bytesPerEntry());
      m.put("heartbeatWarnings", heartbeatWarnings);
      m.put("unreachableEvents", unreachable);
      m.put("heartbeatWarningsWholeRun", heartbeatWarningsWholeRun);
      m.put("unreachableEventsWholeRun", unreachableWholeRun);
      m.put("logDir", logDir);
      return m;
    }
  }

  private ScaleBench() {}

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = List.of(1_000, 10_000, 100_000);
    List<Variant> variants = List.of(Variant.values());
    int cap = 60;
    int capLarge = 180;
    int warmup = 100;
    int inFlight = 2_000;
    String heap = "4g";
    String gc = "g1";
    Path output = Path.of("bench/results/scale.json");
    List<String> jvmArgs = new ArrayList<>();
    Path profileDir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" ->
            sizes =
                Arrays.stream(Figures.value(args, ++i, "--sizes").split(","))
                    .map(s -> Integer.parseInt(s.trim().replace("_", "")))
                    .sorted()
                    .toList();
        case "--systems" ->
            variants =
                Arrays.stream(Figures.value(args, ++i, "--systems").split(","))
                    .map(s -> Variant.of(s.trim()))
                    .toList();
        case "--cap" -> cap = Figures.intOption(args, ++i, "--cap", 1);
        case "--cap-large" -> capLarge = Figures.intOption(args, ++i, "--cap-large", 1);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--in-flight" -> inFlight = Figures.intOption(args, ++i, "--in-flight", 1);
        case "--heap" -> heap = Figures.value(args, ++i, "--heap");
        case "--gc" -> gc = gcOption(Figures.value(args, ++i, "--gc"));
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        case "--jvm-arg" -> jvmArgs.add(Figures.value(args, ++i, "--jvm-arg"));
        case "--profile" -> profileDir = Path.of(Figures.value(args, ++i, "--profile"));
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    for (int n : sizes) {
      if (n < 1) {
        throw new IllegalArgumentException("--sizes must be at least 1, got " + n);
      }
    }
    Options options =
        new Options(
            sizes,
            variants,
            cap,
            capLarge,
            warmup,
            inFlight,
            heap,
            gc,
            List.copyOf(jvmArgs),
            profileDir,
            output);

    List<Run> runs = new ArrayList<>();
    for (int n : sizes) {
      for (Variant variant : variants) {
        Run run = new Run(variant, n, options.cap(n));
        System.out.println("==> " + variant.label + ", N = " + Figures.count(n));
        measure(run, options);
        System.out.println("    " + summary(run));
        runs.add(run);
      }
    }
    write(options, runs);
    System.out.println("Scale figures written to " + output);
    System.exit(0);
  }

  // ---- one run --------------------------------------------------------------------------------

  private static String gcLabel(String gc) {
    return switch (gc) {
      case "serial" -> "SerialGC";
      case "parallel" -> "ParallelGC";
      default -> "G1, the JVM's own choice on this machine";
    };
  }

  /** A --gc value, checked. */
  private static String gcOption(String gc) {
    return switch (gc) {
      case "g1", "serial", "parallel" -> gc;
      default ->
          throw new IllegalArgumentException("--gc must be g1, serial or parallel, got: " + gc);
    };
  }

  /**
   * The node JVMs' options: the heap, the collector (G1 by default, what the JVM picks by itself on
   * this machine class; System.gc() is a full collection with each of them), then --jvm-arg.
   */
  private static String[] jvmArgs(Options options) {
    List<String> args = new ArrayList<>();
    args.add("-Xms" + options.heap());
    args.add("-Xmx" + options.heap());
    args.add(
        switch (options.gc()) {
          case "serial" -> "-XX:+UseSerialGC";
          case "parallel" -> "-XX:+UseParallelGC";
          default -> "-XX:+UseG1GC";
        });
    args.addAll(options.jvmArgs());
    return args.toArray(String[]::new);
  }

  private static void measure(Run run, Options options) throws IOException {
    ProcessCluster cluster = null;
    try {
      cluster =
          ProcessCluster.builder()
              .size(3)
              .config(run.variant.config())
              .testTimings(false)
              .mainClass(ScaleNode.class)
              .jvmArgs(jvmArgs(options))
              .start();
      run.logDir = cluster.logDir().toString();
      List<NodeProcess> observers = List.of(cluster.node(1), cluster.node(2));
      if (run.variant.nodeSystem.equals("receptionist")) {
        for (NodeProcess observer : observers) {
          for (String burst : List.of("warm", "main")) {
            command(cluster, observer, "subscribe " + burst, List.of("subscribed " + burst));
          }
        }
      }
      if (options.warmup() > 0) {
        run.phase = "warm-up";
        Run warm = new Run(run.variant, options.warmup(), run.capSeconds);
        burst(cluster, warm, "warm", options, false);
        run.warmupConverged = warm.visibleMicros >= 0 && warm.goneMicros >= 0;
        if (!run.warmupConverged) {
          System.out.println("    warm-up did not converge: " + summary(warm));
        }
        run.phase = "setup";
      }
      burst(cluster, run, "main", options, true);
    } catch (RuntimeException | AssertionError e) {
      System.out.println("    failed: " + e);
      run.error = describe(e, run, cluster);
    } finally {
      if (cluster != null) {
        try {
          countLogs(cluster, run);
        } finally {
          cluster.close();
        }
      }
    }
  }

  /** One burst of {@code run.n} registrations on node 1, seen by nodes 2 and 3, then its stop. */
  private static void burst(
      ProcessCluster cluster, Run run, String burst, Options options, boolean measured) {
    NodeProcess registrar = cluster.node(0);
    List<NodeProcess> observers = List.of(cluster.node(1), cluster.node(2));
    String system = run.variant.nodeSystem;
    long capMillis = run.capSeconds * 1000L;
    Duration phaseTimeout = Duration.ofSeconds(run.capSeconds).plus(STEP_TIMEOUT);

    command(cluster, registrar, "spawn " + burst + " " + run.n, List.of("spawned " + burst));
    if (measured) {
      heap(cluster, observers, run.heapBefore);
      mark(cluster, "burst");
      profile(cluster, options, run, "start");
    }

    // Visible: observers poll from before the first call.
    List<Integer> from = positions(observers);
    for (NodeProcess observer : observers) {
      command(
          cluster,
          observer,
          "watch visible " + system + " " + burst + " " + run.n + " " + capMillis,
          List.of("watching " + burst + " visible"));
    }
    int registrarFrom = registrar.lineCount();
    String[] start =
        command(
            cluster,
            registrar,
            "register " + system + " " + burst + " " + capMillis + " " + options.inFlight(),
            List.of("burst-start " + burst));
    run.startMicros = Long.parseLong(start[3]);
    if (measured) {
      run.phase = "visible";
      run.phaseStartMicros = run.startMicros;
    }
    Outcome visible = awaitPhase(cluster, observers, from, burst, "visible", phaseTimeout, true);
    run.visibleMicros = visible.atMicros < 0 ? -1 : visible.atMicros - run.startMicros;
    run.visibleListed = visible.listed;
    String[] done =
        await(cluster, registrar, registrarFrom, List.of("burst-done " + burst), phaseTimeout);
    run.ok = Long.parseLong(done[3]);
    run.failed = Long.parseLong(done[4]);
    run.unfinished = Long.parseLong(done[5]);
    run.callsDoneMicros = Long.parseLong(done[6]) - run.startMicros;
    for (String line : registrar.lines().subList(registrarFrom, registrar.lineCount())) {
      if (line.startsWith("TROUPE-SCALE failure " + burst + " ")) {
        run.firstFailure = line.substring(("TROUPE-SCALE failure " + burst + " ").length());
      }
    }
    if (measured) {
      profile(cluster, options, run, "stop");
      mark(cluster, "visible");
      heap(cluster, observers, run.heapAfter);
      mark(cluster, "stop");
    }

    // Gone: every worker of the burst stops with its parent.
    from = positions(observers);
    for (NodeProcess observer : observers) {
      command(
          cluster,
          observer,
          "watch gone " + system + " " + burst + " " + run.n + " " + capMillis,
          List.of("watching " + burst + " gone"));
    }
    String[] stop = command(cluster, registrar, "stop " + burst, List.of("stop-start " + burst));
    long stopMicros = Long.parseLong(stop[3]);
    if (measured) {
      run.phase = "gone";
      run.phaseStartMicros = stopMicros;
    }
    Outcome gone = awaitPhase(cluster, observers, from, burst, "gone", phaseTimeout, false);
    // An observer that listed none of the burst sees it gone at once, even before the stop.
    run.goneMicros = gone.atMicros < 0 ? -1 : Math.max(0, gone.atMicros - stopMicros);
    run.goneListed = gone.listed;
    if (measured) {
      mark(cluster, "gone");
    }
  }

  /**
   * When the last observer saw the phase through ({@code -1}: not within the cap) and its count.
   */
  private record Outcome(long atMicros, int listed) {}

  private static Outcome awaitPhase(
      ProcessCluster cluster,
      List<NodeProcess> observers,
      List<Integer> from,
      String burst,
      String phase,
      Duration timeout,
      boolean fewest) {
    long at = 0;
    int listed = fewest ? Integer.MAX_VALUE : 0;
    for (int i = 0; i < observers.size(); i++) {
      String[] f =
          await(
              cluster,
              observers.get(i),
              from.get(i),
              List.of("seen " + burst + " " + phase + " ", "timeout " + burst + " " + phase + " "),
              timeout);
      int count = Integer.parseInt(f[f.length - 1]);
      listed = fewest ? Math.min(listed, count) : Math.max(listed, count);
      if (f[1].equals("timeout") || at < 0) {
        at = -1;
      } else {
        at = Math.max(at, Long.parseLong(f[4]));
      }
    }
    return new Outcome(at, listed);
  }

  private static void heap(ProcessCluster cluster, List<NodeProcess> observers, long[] into) {
    List<Integer> from = positions(observers);
    observers.forEach(o -> o.send("heap"));
    for (int i = 0; i < observers.size(); i++) {
      into[i] =
          Long.parseLong(
              await(cluster, observers.get(i), from.get(i), List.of("heap "), STEP_TIMEOUT)[2]);
    }
  }

  /**
   * With --profile: starts or stops a flight recording of the visible phase on every node, to
   * {@code <dir>/<system>-<n>-node-<i>.jfr}.
   */
  private static void profile(ProcessCluster cluster, Options options, Run run, String what) {
    if (options.profileDir() == null) {
      return;
    }
    try {
      Files.createDirectories(options.profileDir());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    for (int i = 0; i < cluster.nodes().size(); i++) {
      String command =
          what.equals("start")
              ? "profile start "
                  + options
                      .profileDir()
                      .resolve(run.variant.nodeSystem + "-" + run.n + "-node-" + i + ".jfr")
                      .toAbsolutePath()
              : "profile stop";
      command(cluster, cluster.nodes().get(i), command, List.of("profile "));
    }
  }

  /** Puts {@code mark <label>} into every node's output: the bounds of the counted windows. */
  private static void mark(ProcessCluster cluster, String label) {
    for (NodeProcess node : cluster.nodes()) {
      command(cluster, node, "mark " + label, List.of("mark " + label));
    }
  }

  private static List<Integer> positions(List<NodeProcess> nodes) {
    return nodes.stream().map(NodeProcess::lineCount).toList();
  }

  /** Sends {@code command} and waits for its answer (one of {@code replies}); its fields. */
  private static String[] command(
      ProcessCluster cluster, NodeProcess node, String command, List<String> replies) {
    int from = node.lineCount();
    node.send(command);
    return await(cluster, node, from, replies, STEP_TIMEOUT);
  }

  /** A node JVM ended while the driver waited for it: downed by the cluster, or crashed. */
  private static final class NodeExited extends IllegalStateException {
    final int index;
    final boolean downed;

    NodeExited(NodeProcess node, int code, List<String> replies, Throwable cause) {
      super(
          "node "
              + (node.index() + 1)
              + " ("
              + node.name()
              + ") exited with code "
              + code
              + " waiting for "
              + replies
              + "; its last lines: "
              + node.lines().subList(Math.max(0, node.lines().size() - 4), node.lines().size()),
          cause);
      this.index = node.index();
      this.downed =
          node.lines().stream().anyMatch(l -> l.equals("TROUPE-EVENT DOWNED " + node.address()));
    }
  }

  /** The table's text for a run that broke off: where, after how long, how far it got. */
  private static String describe(Throwable e, Run run, ProcessCluster cluster) {
    String after =
        run.phase.equals("visible") || run.phase.equals("gone")
            ? " after " + seconds(ScaleNode.micros() - run.phaseStartMicros) + " s"
            : "";
    String how =
        e instanceof NodeExited exited
            ? "the cluster broke up in the "
                + run.phase
                + " phase"
                + after
                + ": node "
                + (exited.index + 1)
                + (exited.downed ? " was downed and exited" : " exited")
            : "failed in the "
                + run.phase
                + " phase"
                + after
                + ": "
                + String.valueOf(e.getMessage()).replace('\n', ' ');
    if (how.length() > 240) {
      how = how.substring(0, 240) + "…";
    }
    if (cluster != null && (run.phase.equals("visible") || run.phase.equals("gone"))) {
      boolean visible = run.phase.equals("visible");
      int listed = visible ? Integer.MAX_VALUE : -1;
      for (NodeProcess observer : List.of(cluster.node(1), cluster.node(2))) {
        int count = lastListed(observer, run.phase);
        if (count >= 0) {
          listed = visible ? Math.min(listed, count) : Math.max(listed, count);
        }
      }
      if (listed >= 0 && listed != Integer.MAX_VALUE) {
        how +=
            " ("
                + Figures.count(listed)
                + " of "
                + Figures.count(run.n)
                + (visible ? " seen" : " still listed")
                + " last reported)";
      }
    }
    return how;
  }

  /** The count of the observer's last report on the main burst's {@code phase}; -1 if none. */
  private static int lastListed(NodeProcess observer, String phase) {
    List<String> lines = observer.lines();
    for (int i = lines.size() - 1; i >= 0; i--) {
      String[] f = lines.get(i).split(" ");
      if (f.length >= 5
          && f[0].equals("TROUPE-SCALE")
          && List.of("progress", "seen", "timeout").contains(f[1])
          && f[2].equals("main")
          && f[3].equals(phase)) {
        return Integer.parseInt(f[f.length - 1]);
      }
    }
    return -1;
  }

  /**
   * Waits for a {@code TROUPE-SCALE <reply>...} line of {@code node} from position {@code from};
   * its fields. Fails at once if the node answers an error or any node of the cluster exits (a node
   * the cluster downed exits).
   */
  private static String[] await(
      ProcessCluster cluster, NodeProcess node, int from, List<String> replies, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long slice = Math.min(LIVENESS_CHECK.toNanos(), deadline - System.nanoTime());
      try {
        String line =
            node.awaitLineAfter(
                from,
                l ->
                    l.startsWith("TROUPE-ERROR")
                        || replies.stream().anyMatch(r -> l.startsWith("TROUPE-SCALE " + r)),
                Duration.ofNanos(Math.max(slice, 1)));
        if (line.startsWith("TROUPE-ERROR")) {
          throw new IllegalStateException(node.name() + " answered: " + line);
        }
        return line.split(" ");
      } catch (AssertionError e) {
        for (NodeProcess each : cluster.nodes()) {
          if (!each.isAlive()) {
            throw new NodeExited(each, each.awaitExit(LIVENESS_CHECK), replies, e);
          }
        }
        if (System.nanoTime() - deadline >= 0) {
          throw e;
        }
      }
    }
  }

  // ---- the node logs --------------------------------------------------------------------------

  private static boolean isHeartbeatWarning(String line) {
    return line.contains("heartbeat was delayed")
        || line.contains("heartbeat interval is growing too large");
  }

  /**
   * Counts heartbeat warnings and unreachable events in the output of every node: within the
   * windows burst..visible and stop..gone (the full collections of the heap measurement fall
   * outside them), and over the whole run.
   */
  private static void countLogs(ProcessCluster cluster, Run run) throws IOException {
    for (NodeProcess node : cluster.nodes()) {
      Path log = cluster.logDir().resolve(node.name() + ".log");
      boolean inWindow = false;
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        switch (line) {
          case "TROUPE-SCALE mark burst", "TROUPE-SCALE mark stop" -> inWindow = true;
          case "TROUPE-SCALE mark visible", "TROUPE-SCALE mark gone" -> inWindow = false;
          default -> {
            boolean heartbeat = isHeartbeatWarning(line);
            boolean unreachable = line.startsWith("TROUPE-EVENT UNREACHABLE");
            run.heartbeatWarningsWholeRun += heartbeat ? 1 : 0;
            run.unreachableWholeRun += unreachable ? 1 : 0;
            if (inWindow) {
              run.heartbeatWarnings += heartbeat ? 1 : 0;
              run.unreachable += unreachable ? 1 : 0;
            }
          }
        }
      }
    }
  }

  // ---- the table ------------------------------------------------------------------------------

  private static String seconds(long micros) {
    double s = micros / 1e6;
    return String.format(Locale.ROOT, s >= 10 ? "%.1f" : s >= 1 ? "%.2f" : "%.3f", s);
  }

  private static String visibleCell(Run run) {
    if (!run.visibleValid()) {
      return run.error;
    }
    String figure =
        run.visibleMicros >= 0
            ? seconds(run.visibleMicros)
            : "not within "
                + run.capSeconds
                + " s ("
                + Figures.count(run.visibleListed)
                + " of "
                + Figures.count(run.n)
                + " seen)";
    return run.warmupConverged ? figure : figure + "; warm-up did not converge";
  }

  private static String goneCell(Run run) {
    if (run.error != null) {
      return run.phase.equals("gone") ? run.error : "—";
    }
    if (run.visibleMicros < 0 && run.visibleListed == 0) {
      return "— (none was seen)";
    }
    return run.goneMicros >= 0
        ? seconds(run.goneMicros)
        : "not within "
            + run.capSeconds
            + " s ("
            + Figures.count(run.goneListed)
            + " of "
            + Figures.count(run.n)
            + " still listed)";
  }

  private static String summary(Run run) {
    return "visible "
        + visibleCell(run)
        + " | gone "
        + goneCell(run)
        + " | calls ok "
        + run.ok
        + ", failed "
        + run.failed
        + ", unfinished "
        + run.unfinished
        + (run.firstFailure == null ? "" : " (first: " + run.firstFailure + ")")
        + " | "
        + String.format(Locale.ROOT, "%.0f", run.bytesPerEntry())
        + " B/entry | heartbeat warnings "
        + run.heartbeatWarnings
        + " ("
        + run.heartbeatWarningsWholeRun
        + " in the whole run), unreachable "
        + run.unreachable
        + " ("
        + run.unreachableWholeRun
        + ")";
  }

  private static Run find(List<Run> runs, Variant variant, int n) {
    for (Run run : runs) {
      if (run.variant == variant && run.n == n && run.visibleValid()) {
        return run;
      }
    }
    return null;
  }

  /**
   * How many times faster than {@code base} a visible time is: a lower bound ({@code >}) when the
   * base did not finish within its cap, nothing when {@code run} did not.
   */
  private static String ratioCell(Run run, Run base, double[] ratio) {
    if (base == null || !run.visibleValid() || run.visibleMicros < 0) {
      return "—";
    }
    if (base.visibleMicros < 0) {
      ratio[0] = base.capSeconds * 1e6 / Math.max(run.visibleMicros, 1);
      return "> " + Figures.times(ratio[0]);
    }
    ratio[0] = (double) base.visibleMicros / Math.max(run.visibleMicros, 1);
    return Figures.times(ratio[0]);
  }

  /** Visible time at N ÷ at N/10, same system; an upper or lower bound around a capped figure. */
  private static String growthCell(Run run, Run smaller, double[] growth) {
    if (smaller == null || !run.visibleValid() || smaller.visibleMicros < 0) {
      return "—";
    }
    if (run.visibleMicros < 0) {
      growth[0] = run.capSeconds * 1e6 / Math.max(smaller.visibleMicros, 1);
      return "> " + Figures.times(growth[0]);
    }
    growth[0] = (double) run.visibleMicros / Math.max(smaller.visibleMicros, 1);
    return Figures.times(growth[0]);
  }

  private static void write(Options options, List<Run> runs) throws IOException {
    List<List<Object>> rows = new ArrayList<>();
    for (Run run : runs) {
      boolean troupe = run.variant == Variant.REGISTRY || run.variant == Variant.ADDRESS_BOOK;
      Run base = find(runs, Variant.RECEPTIONIST, run.n);
      Run smaller = run.n % 10 == 0 ? find(runs, run.variant, run.n / 10) : null;
      double[] ratio = {Double.NaN};
      double[] growth = {Double.NaN};
      String ratioCell =
          run.variant == Variant.RECEPTIONIST ? "baseline" : ratioCell(run, base, ratio);
      String growthCell = growthCell(run, smaller, growth);
      List<String> goals = new ArrayList<>();
      boolean met = true;
      if (troupe && run.n == GOAL_RATIO_AT && base != null) {
        goals.add("≥ " + GOAL_RATIO + "× receptionist");
        met &= ratio[0] >= GOAL_RATIO;
      }
      if (troupe && smaller != null) {
        goals.add("growth ≤ 10×");
        met &= growth[0] <= 10 && run.visibleMicros >= 0;
      }
      rows.add(
          List.of(
              run.variant.label,
              Figures.count(run.n),
              visibleCell(run),
              goneCell(run),
              run.variant.nodeSystem.equals("receptionist")
                  ? "— (tell)"
                  : !run.visibleValid() ? "—" : Figures.count(run.failed + run.unfinished),
              Double.isNaN(run.bytesPerEntry()) || !run.visibleValid() || run.visibleMicros < 0
                  ? "—"
                  : Figures.count(Math.round(run.bytesPerEntry())),
              Integer.toString(run.heartbeatWarnings),
              Integer.toString(run.unreachable),
              ratioCell,
              growthCell,
              goals.isEmpty() ? "—" : String.join("; ", goals),
              goals.isEmpty() ? "—" : met ? "met" : "**not met**"));
    }
    String description =
        "A fresh cluster of three node JVMs on 127.0.0.1 per system and N (Troupe's shipped"
            + " settings, -Xmx"
            + options.heap()
            + " and "
            + gcLabel(options.gc())
            + " each). Node 1 spawns N idle actors, children of one parent, and"
            + " registers them all at once, at most "
            + Figures.count(options.inFlight())
            + " calls unanswered; nodes 2 and 3 poll their own view every millisecond."
            + " Registry: `register(WorkerGroup.of(\"g-\" + i % 100, ..), ref)`, visible when"
            + " `workers(group)` over the 100 groups and `allWorkers()` both count N. Address"
            + " book: `register(\"n-\" + i, ref)`, visible when `locate` finds every name."
            + " Receptionist: `Receptionist.register(key, ref)`"
            + " told to the local receptionist, 100 keys, visible when the"
            + " `Receptionist.subscribe` listings on each observer add up to N; with Pekko's"
            + " defaults (write local, subscribers told every 500 ms) and with the settings"
            + " Troupe gives it (write all, 10 ms). Visible: from just before the first call"
            + " until both observers list all N. Gone: from stopping the parent (one message;"
            + " all N actors stop with it) until both list none (after a capped visible phase:"
            + " until those they listed are gone). Failed calls: failed or"
            + " unanswered within the cap (the receptionist is told, it does not answer)."
            + " Bytes/entry: the observers' heap after full collections with all N listed minus"
            + " before the burst, over N, mean of both (— when not all N were seen). Heartbeat warnings (\"heartbeat was"
            + " delayed\", \"heartbeat interval is growing too large\") and unreachable events:"
            + " all three nodes' output during the two measured phases (the full collections of"
            + " the heap measurement fall between them). A warm-up burst of "
            + Figures.count(options.warmup())
            + " other entries runs through the same steps first. Caps: "
            + options.capSeconds()
            + " s per phase, "
            + options.capLargeSeconds()
            + " s from N = "
            + Figures.count(LARGE)
            + ". × receptionist: the receptionist's (Pekko's defaults) visible time ÷ the row's,"
            + " same N. Growth: visible time at N ÷ at N/10. Goal: Troupe at least "
            + GOAL_RATIO
            + "×"
            + " faster than the receptionist at N = "
            + Figures.count(GOAL_RATIO_AT)
            + ", its time growing no worse than linearly (≤ 10× per tenfold N).";
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("sizes", options.sizes().toString().replace(" ", ""));
    parameters.put(
        "systems", options.variants().stream().map(v -> v.id).toList().toString().replace(" ", ""));
    parameters.put("capSeconds", options.capSeconds());
    parameters.put("capLargeSeconds", options.capLargeSeconds());
    parameters.put("warmup", options.warmup());
    parameters.put("inFlight", options.inFlight());
    parameters.put("heap", options.heap());
    parameters.put("gc", options.gc());
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    parameters.put("jvm", System.getProperty("java.vm.version"));
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("runs", runs.stream().map(Run::toMap).toList());
    Figures.write(
        options.output(),
        ScaleBench.class,
        parameters,
        List.of(
            Figures.table(
                "Registration bursts: 1 node registers N, 2 nodes observe",
                description,
                List.of(
                    "System",
                    "N",
                    "Visible s",
                    "Gone s",
                    "Failed calls",
                    "Bytes/entry",
                    "Heartbeat warnings",
                    "Unreachable events",
                    "× receptionist",
                    "Growth (÷ N/10)",
                    "Goal",
                    "Met"),
                rows)),
        data);
  }
}
