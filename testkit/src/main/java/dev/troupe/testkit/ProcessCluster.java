package dev.troupe.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Troupe nodes as child JVMs on loopback, for faults an in-JVM cluster would hide: {@code SIGKILL},
 * {@code SIGSTOP}/{@code SIGCONT}, {@code SIGTERM}.
 *
 * <pre>{@code
 * try (ProcessCluster cluster = ProcessCluster.builder().size(3).start()) {
 *   cluster.node(2).kill();                                   // SIGKILL
 *   cluster.node(0).awaitMembers(Set.of(cluster.node(0).address(), cluster.node(1).address()));
 * }
 * }</pre>
 *
 * <p>Each child runs {@link ChildNode} (or a test's own main that calls {@link
 * ChildNode#run(String[], java.util.Map)}) from the test class path, with {@link
 * TestCluster#TEST_CONFIG} timings plus {@code pekko.coordinated-shutdown.exit-jvm = on}, so a
 * downed node exits. The first node joins itself; the others join the first (or, {@linkplain
 * Builder#withoutSeeds() without seeds}, they find each other through Cluster Bootstrap). Output of
 * every child is kept in {@code target/process-cluster/}.
 *
 * <p>Children never outlive the test: {@link #close()} kills them, a JVM shutdown hook kills them
 * if the test JVM exits without closing, and a child whose standard input closes (its parent died)
 * halts by itself.
 */
public final class ProcessCluster implements AutoCloseable {
  /** The lines a child prints with its Pekko config; exit-jvm so a downed child really exits. */
  public static final String CHILD_CONFIG =
      String.join(
          "\n",
          "pekko.coordinated-shutdown.exit-jvm = on",
          "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = on",
          "pekko.coordinated-shutdown.run-by-actor-system-terminate = on");

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final Builder settings;
  private final Path logDir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final Thread shutdownHook;

  private ProcessCluster(Builder settings) {
    this.settings = settings;
    this.logDir =
        Path.of(
            "target",
            "process-cluster",
            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")));
    this.shutdownHook = new Thread(this::killAll, "process-cluster-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** A builder; defaults: 3 nodes running {@link ChildNode}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The directory with each node's config file and full output ({@code <name>.log}). */
  public Path logDir() {
    return logDir;
  }

  /** The node at {@code index}, in start order. */
  public NodeProcess node(int index) {
    return nodes.get(index);
  }

  /** All started nodes, in start order. */
  public List<NodeProcess> nodes() {
    return List.copyOf(nodes);
  }

  /** The nodes whose process is alive. */
  public List<NodeProcess> aliveNodes() {
    return nodes.stream().filter(NodeProcess::isAlive).collect(Collectors.toList());
  }

  /**
   * Starts one more node that joins the first live node, and waits until it is Up and every alive
   * node sees all alive nodes Up.
   */
  public NodeProcess addNode() {
    NodeProcess node = startNode(nodes.size(), true);
    awaitConverged();
    return node;
  }

  /** Waits until every alive node reports exactly the alive nodes as its Up members. */
  public void awaitConverged() {
    Set<String> expected =
        aliveNodes().stream().map(NodeProcess::address).collect(Collectors.toSet());
    for (NodeProcess node : aliveNodes()) {
      node.awaitMembers(expected, READY_TIMEOUT);
    }
  }

  private NodeProcess startNode(int index, boolean awaitReady) {
    try {
      Files.createDirectories(logDir);
      String name = "node-" + index;
      Path configFile = logDir.resolve(name + ".conf");
      Files.writeString(
          configFile,
          settings.config
              + "\n"
              + (settings.testTimings ? TestCluster.TEST_CONFIG : "")
              + "\n"
              + CHILD_CONFIG
              + "\n"
              + settings.nodeConfig.apply(index)
              + "\n",
          StandardCharsets.UTF_8);
      List<String> command = new ArrayList<>(settings.commandPrefix.apply(index));
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      for (String arg : settings.jvmArgs) {
        command.add(arg.replace("{node}", Integer.toString(index)));
      }
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(settings.mainClass);
      command.addAll(List.of("--name", name, "--config-file", configFile.toString()));
      Optional<NodeProcess> seed =
          settings.seeds ? aliveNodes().stream().findFirst() : Optional.empty();
      if (seed.isPresent()) {
        command.addAll(List.of("--seed", seed.get().address()));
      }
      command.addAll(settings.mainArgs);
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      NodeProcess node = new NodeProcess(index, name, process, logDir.resolve(name + ".log"));
      nodes.add(node);
      if (awaitReady) {
        node.awaitReady(READY_TIMEOUT);
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start child node " + index, e);
    }
  }

  /** Kills every child still running (SIGKILL) and waits for them to exit. */
  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down; the hook is running or has run.
    }
  }

  private void killAll() {
    for (NodeProcess node : nodes) {
      node.process.destroyForcibly();
    }
    for (NodeProcess node : nodes) {
      try {
        node.process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Settings for a {@link ProcessCluster}. */
  public static final class Builder {
    private int size = 3;
    private String config = "";
    private String mainClass = ChildNode.class.getName();
    private List<String> mainArgs = List.of();
    private boolean testTimings = true;
    private boolean seeds = true;
    private IntFunction<String> nodeConfig = i -> "";
    private IntFunction<List<String>> commandPrefix = i -> List.of();
    private List<String> jvmArgs =
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

    private Builder() {}

    /** Number of nodes to start. */
    public Builder size(int size) {
      this.size = size;
      return this;
    }

    /** Extra HOCON for every node, above the test timings. */
    public Builder config(String hocon) {
      this.config = hocon;
      return this;
    }

    /** A main class that calls {@link ChildNode#run}; default {@link ChildNode}. */
    public Builder mainClass(Class<?> mainClass) {
      this.mainClass = mainClass.getName();
      return this;
    }

    /**
     * Whether the children get {@link TestCluster#TEST_CONFIG}'s short failure-detector and SBR
     * timings (default); off = Troupe's shipped defaults, for measurements.
     */
    public Builder testTimings(boolean on) {
      this.testTimings = on;
      return this;
    }

    /**
     * HOCON for the node of start-order index {@code i} only, above {@link #config} (for example
     * its own canonical hostname).
     */
    public Builder nodeConfig(IntFunction<String> perNode) {
      this.nodeConfig = perNode;
      return this;
    }

    /**
     * Words before {@code java} in the command of node {@code i}, for example {@code ip netns exec
     * <namespace>} to start it in its own network namespace (the process is still the JVM: {@code
     * ip netns exec} execs it, so its PID is the one signalled).
     */
    public Builder commandPrefix(IntFunction<List<String>> perNode) {
      this.commandPrefix = perNode;
      return this;
    }

    /** Extra arguments after {@code --name/--seed/--config-file}. */
    public Builder mainArgs(String... args) {
      this.mainArgs = List.of(args);
      return this;
    }

    /**
     * JVM flags of the children; {@code {node}} in a flag becomes the node's start-order index (for
     * example {@code -XX:StartFlightRecording=filename=node-{node}.jfr}).
     */
    public Builder jvmArgs(String... args) {
      this.jvmArgs = List.of(args);
      return this;
    }

    /**
     * No seed nodes (default: the first node joins itself and every other node gets the first as
     * its seed): each node forms or joins the cluster from its configuration, such as Cluster
     * Bootstrap ({@code troupe.core.bootstrap.enabled = on}); {@link #start()} then starts all
     * nodes at once and waits until all see all Up, and {@link ProcessCluster#addNode()} gives the
     * new node no seed either.
     */
    public Builder withoutSeeds() {
      this.seeds = false;
      return this;
    }

    /**
     * Starts the nodes (one after the other, or all at once {@linkplain #withoutSeeds() without
     * seeds}) and waits until all see all Up.
     */
    public ProcessCluster start() {
      if (size < 1) {
        throw new IllegalArgumentException("ProcessCluster size must be >= 1, got: " + size);
      }
      ProcessCluster cluster = new ProcessCluster(this);
      try {
        for (int i = 0; i < size; i++) {
          // With seeds each node joins the first, so the first must be Up before the next starts;
          // without, they find each other (Cluster Bootstrap) and start together.
          cluster.startNode(i, seeds);
        }
        if (!seeds) {
          cluster.nodes.forEach(node -> node.awaitReady(READY_TIMEOUT));
        }
        cluster.awaitConverged();
        return cluster;
      } catch (RuntimeException | Error e) {
        cluster.close();
        throw e;
      }
    }
  }

  /** One child JVM. */
  public static final class NodeProcess {
    private final int index;
    private final String name;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Writer log;
    private final PrintWriter stdin;
    private volatile String address;

    private NodeProcess(int index, String name, Process process, Path logFile) throws IOException {
      this.index = index;
      this.name = name;
      this.process = process;
      this.log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
      OutputStream in = process.getOutputStream();
      this.stdin =
          new PrintWriter(new java.io.OutputStreamWriter(in, StandardCharsets.UTF_8), true);
      Thread reader = new Thread(this::readOutput, "process-cluster-" + name);
      reader.setDaemon(true);
      reader.start();
    }

    private void readOutput() {
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          log.write(line);
          log.write('\n');
          log.flush();
          if (line.startsWith("TROUPE-")) {
            synchronized (lines) {
              lines.add(line);
              lines.notifyAll();
            }
          }
        }
      } catch (IOException e) {
        // The process is gone; waiters time out with the lines seen so far.
      } finally {
        try {
          log.close();
        } catch (IOException ignored) {
          // nothing more to write
        }
        synchronized (lines) {
          lines.notifyAll();
        }
      }
    }

    /** Start order index. */
    public int index() {
      return index;
    }

    /** Node name ({@code node-<index>}). */
    public String name() {
      return name;
    }

    /** The node's cluster address, e.g. {@code pekko://troupe@127.0.0.1:41234}. */
    public String address() {
      return address;
    }

    /** The OS process id. */
    public long pid() {
      return process.pid();
    }

    /** Whether the process is running (a paused process counts as running). */
    public boolean isAlive() {
      return process.isAlive();
    }

    /** SIGKILL, then waits until the process is gone. */
    public void kill() {
      process.destroyForcibly();
      awaitExit(Duration.ofSeconds(30));
    }

    /**
     * SIGTERM: the JVM's shutdown hook runs CoordinatedShutdown, a graceful leave. Sent with {@code
     * kill}, not {@link Process#destroy()}, which also closes the child's standard streams: the
     * child would see its input close and halt at once, and its last output would be lost.
     */
    public void terminate() {
      signal("TERM");
    }

    /** SIGSTOP: the process stops answering, as in a long GC pause or a frozen VM. */
    public void pause() {
      signal("STOP");
    }

    /** SIGCONT: a paused process runs again. */
    public void resume() {
      signal("CONT");
    }

    private void signal(String signal) {
      try {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
          throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** Waits until the process has exited; returns its exit code. */
    public int awaitExit(Duration timeout) {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new AssertionError(name + " did not exit within " + timeout);
        }
        return process.exitValue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** Sends a command line to the child's standard input. */
    public void send(String command) {
      stdin.println(command);
      if (stdin.checkError()) {
        throw new IllegalStateException("cannot write to " + name + " (exited?)");
      }
    }

    /** The protocol lines ({@code TROUPE-...}) received so far. */
    public List<String> lines() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    /**
     * Waits for a protocol line matching {@code predicate}, including lines already received, and
     * returns the first such line.
     */
    public String awaitLine(Predicate<String> predicate, Duration timeout) {
      return awaitLineAfter(0, predicate, timeout);
    }

    /** Like {@link #awaitLine} but only considers lines from position {@code from} on. */
    public String awaitLineAfter(int from, Predicate<String> predicate, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (lines) {
        int next = from;
        while (true) {
          for (; next < lines.size(); next++) {
            if (predicate.test(lines.get(next))) {
              return lines.get(next);
            }
          }
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            throw new AssertionError(
                "Timed out after "
                    + timeout
                    + " waiting for a line from "
                    + name
                    + "; last lines: "
                    + lines.subList(Math.max(0, lines.size() - 10), lines.size()));
          }
          try {
            lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
          }
        }
      }
    }

    /** The number of protocol lines received so far (a position for {@link #awaitLineAfter}). */
    public int lineCount() {
      synchronized (lines) {
        return lines.size();
      }
    }

    /** The Up members this node reported last. */
    public Set<String> members() {
      List<String> all = lines();
      for (int i = all.size() - 1; i >= 0; i--) {
        if (all.get(i).startsWith("TROUPE-MEMBERS")) {
          return parseMembers(all.get(i));
        }
      }
      return Set.of();
    }

    /** Waits until this node reports exactly {@code expected} as its Up members. */
    public void awaitMembers(Set<String> expected, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!members().equals(expected)) {
        int seen = lineCount();
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          throw new AssertionError(
              name + " reports members " + members() + ", expected " + expected);
        }
        try {
          awaitLineAfter(seen, l -> l.startsWith("TROUPE-MEMBERS"), Duration.ofNanos(remaining));
        } catch (AssertionError e) {
          throw new AssertionError(
              name + " reports members " + members() + ", expected " + expected, e);
        }
      }
    }

    private static Set<String> parseMembers(String line) {
      String rest = line.substring("TROUPE-MEMBERS".length()).trim();
      return rest.isEmpty() ? Set.of() : new TreeSet<>(Arrays.asList(rest.split(",")));
    }

    private void awaitReady(Duration timeout) {
      String ready;
      try {
        ready = awaitLine(l -> l.startsWith("TROUPE-READY "), timeout);
      } catch (AssertionError e) {
        process.destroyForcibly();
        throw new AssertionError(name + " did not become ready; see its log", e);
      }
      address = ready.substring("TROUPE-READY ".length()).trim();
    }

    @Override
    public String toString() {
      return name + "(" + address + ", pid " + process.pid() + ")";
    }
  }
}
