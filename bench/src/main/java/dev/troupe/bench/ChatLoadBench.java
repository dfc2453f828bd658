package dev.troupe.bench;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Open-loop load on the chat sample: chat node JVMs ({@code samples/chat/target/troupe-chat.jar})
 * on a shared database, N WebSocket clients in this JVM spread over the nodes, client i in room i
 * mod M. One scheduler thread sends post k at its intended time {@code t0 + k / rate} from client k
 * mod N, never waiting for acknowledgements (a post due while its client reconnects waits in the
 * client's outbox); delivery latency is measured from the intended send time to each participant of
 * the room receiving it (one clock), so a saturated cluster or a late generator shows in the
 * figures instead of slowing the load (coordinated omission). {@link ChatLoadLedger} keeps the
 * accounting of each step; after each step every acknowledged post is looked up in the database.
 *
 * <p>Fixed rate (default): one step at {@code clients × rate} posts/s (or {@code --offered} posts/s
 * in all), steady and with the last node SIGKILLed after the warm-up (measured once the survivors
 * have recovered; the failover is reported on its own). {@code --find-max}: steps of rising offered
 * rate ({@link RateSearch}) until delivery p99 exceeds {@code --p99-target-ms}, then bisection; a
 * step is sustained when p99 ≤ target, every post sent on a live connection is acknowledged, none
 * is rejected, none acknowledged is lost and the generator kept its schedule. {@code --compare}
 * runs the search on 3 nodes, 3 nodes with one killed per step, and 1 node (the baseline), in one
 * invocation with the same JVM settings.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.troupe.bench.ChatLoadBench [--clients 30]
 *       [--rooms clients/10] [--rate 5 | --offered N] [--seconds 30] [--warmup 10] [--nodes 3] [--kill]
 *       [--find-max] [--compare] [--start-rate 100] [--factor 1.5] [--bisect 3]
 *       [--p99-target-ms 100] [--http-clients 8] [--jvm-warmup 30]
 *       [--jar samples/chat/target/troupe-chat.jar]
 *       [--output bench/results/chat.json]
 * </pre>
 */
public final class ChatLoadBench {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  /** The chat's per-connection limit (chat.rate-limit-per-second): the search never offers more. */
  private static final int CHAT_RATE_LIMIT = 10;

  private static final Pattern TEXT = Pattern.compile("\"text\":\"([^\"]+)\"");
  private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");
  private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
  private static final Pattern ROOM = Pattern.compile("\"room\":\"([^\"]+)\"");

  private ChatLoadBench() {}

  /** A cluster shape: node JVMs, and whether the last one is killed as each step starts. */
  record Config(String name, int nodes, boolean kill) {}

  /** One measured step. */
  record Step(
      Config config,
      int offered,
      double seconds,
      ChatLoadLedger.Summary summary,
      long lost,
      Recovery recovery,
      boolean sustained,
      String why) {}

  /**
   * A killing step's failover: from the SIGKILL until every room works end to end again ({@code
   * nanos}, -1 if it did not within {@link #RECOVERY_LIMIT}), and the posts intended in that time
   * (their fate and latencies; the killed node's in-flight ones are abandoned).
   */
  record Recovery(long nanos, ChatLoadLedger.Summary summary, long lost) {
    boolean recovered() {
      return nanos >= 0;
    }
  }

  /** A killed node's failover that takes longer fails the step. */
  private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(60);

  public static void main(String[] args) throws Exception {
    int clients = 30;
    int rooms = -1;
    int rate = 5;
    int offered = 0;
    int seconds = 30;
    int warmup = 10;
    int nodes = 3;
    boolean kill = false;
    boolean findMax = false;
    boolean compare = false;
    int startRate = 100;
    double factor = 1.5;
    int bisect = 3;
    int p99TargetMs = 100;
    int httpClients = 8;
    int jvmWarmup = 30;
    Path jar = Path.of("samples/chat/target/troupe-chat.jar");
    Path output = Path.of("bench/results/chat.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--clients" -> clients = Figures.intOption(args, ++i, "--clients", 2);
        case "--rooms" -> rooms = Figures.intOption(args, ++i, "--rooms", 1);
        case "--rate" -> rate = Figures.intOption(args, ++i, "--rate", 1);
        case "--offered" -> offered = Figures.intOption(args, ++i, "--offered", 1);
        case "--seconds" -> seconds = Figures.intOption(args, ++i, "--seconds", 5);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--nodes" -> nodes = Figures.intOption(args, ++i, "--nodes", 1);
        case "--kill" -> kill = true;
        case "--find-max" -> findMax = true;
        case "--compare" -> compare = true;
        case "--start-rate" -> startRate = Figures.intOption(args, ++i, "--start-rate", 1);
        case "--factor" -> factor = Double.parseDouble(Figures.value(args, ++i, "--factor"));
        case "--bisect" -> bisect = Figures.intOption(args, ++i, "--bisect", 0);
        case "--p99-target-ms" -> p99TargetMs = Figures.intOption(args, ++i, "--p99-target-ms", 1);
        case "--http-clients" -> httpClients = Figures.intOption(args, ++i, "--http-clients", 1);
        case "--jvm-warmup" -> jvmWarmup = Figures.intOption(args, ++i, "--jvm-warmup", 0);
        case "--jar" -> jar = Path.of(Figures.value(args, ++i, "--jar"));
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    if (rooms < 0) {
      rooms = Math.max(1, clients / 10);
    }
    if (factor <= 1) {
      throw new IllegalArgumentException("--factor must be above 1, got " + factor);
    }
    if (kill && nodes < 2) {
      throw new IllegalArgumentException("--kill needs --nodes 2 or more");
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "no chat jar at ["
              + jar
              + "]: build it with mvn -B -DskipTests -pl samples/chat -am package");
    }
    checkFileDescriptors(clients);
    List<Config> configs = new ArrayList<>();
    if (compare) {
      configs.add(new Config("3 nodes", 3, false));
      configs.add(new Config("3 nodes, 1 killed", 3, true));
      configs.add(new Config("1 node", 1, false));
    } else if (findMax || kill || nodes != 3 || offered > 0) {
      configs.add(
          new Config(
              nodes + (nodes == 1 ? " node" : " nodes") + (kill ? ", 1 killed" : ""), nodes, kill));
    } else {
      configs.add(new Config("steady", 3, false));
      configs.add(new Config("node 3 killed", 3, true));
    }
    boolean search = findMax || compare;
    int cap = clients * CHAT_RATE_LIMIT;
    Load load = new Load(clients, rooms, httpClients, jar, seconds, warmup, jvmWarmup, p99TargetMs);
    List<Step> steps = new ArrayList<>();
    Map<String, Integer> best = new LinkedHashMap<>();
    Map<String, Boolean> capped = new LinkedHashMap<>();
    try {
      for (Config config : configs) {
        System.out.println(
            "==> " + config.name() + ", " + clients + " clients, " + rooms + " rooms");
        if (!search) {
          steps.add(load.step(config, Math.min(cap, offered > 0 ? offered : clients * rate)));
          continue;
        }
        RateSearch rates = new RateSearch(Math.min(startRate, cap), factor, bisect, cap);
        for (OptionalInt r = rates.next(); r.isPresent(); r = rates.next()) {
          Step step = load.step(config, r.getAsInt());
          steps.add(step);
          rates.report(step.sustained());
        }
        best.put(config.name(), rates.highestSustained());
        capped.put(config.name(), rates.cappedAt());
        System.out.println("    highest sustained: " + rates.highestSustained() + " posts/s");
      }
    } finally {
      load.close();
    }
    write(
        output,
        steps,
        best,
        capped,
        clients,
        rooms,
        rate,
        seconds,
        warmup,
        jvmWarmup,
        p99TargetMs,
        search);
    System.out.println("Chat figures written to " + output);
    System.exit(0);
  }

  /** A killing step's failover in a table cell, or a dash. */
  private static String failover(Recovery recovery) {
    if (recovery == null) {
      return "—";
    }
    ChatLoadLedger.Summary r = recovery.summary();
    return (recovery.recovered() ? Figures.ms(recovery.nanos()) + " ms" : "not recovered")
        + "; max "
        + r.latency().format(r.latency().max())
        + " ms; "
        + Figures.count(r.abandoned())
        + " abandoned, "
        + Figures.count(r.timedOut())
        + " timed out, "
        + Figures.count(r.undelivered())
        + " undelivered";
  }

  /** The load generator needs one descriptor per client socket, and some to spare. */
  private static void checkFileDescriptors(int clients) {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean os) {
      long max = os.getMaxFileDescriptorCount();
      if (max < clients + 1024L) {
        throw new IllegalStateException(
            "--clients "
                + clients
                + " needs about "
                + (clients + 1024)
                + " file descriptors, the limit is "
                + max
                + ": raise it (ulimit -n)");
      }
    }
  }

  private static void write(
      Path output,
      List<Step> steps,
      Map<String, Integer> best,
      Map<String, Boolean> capped,
      int clients,
      int rooms,
      int rate,
      int seconds,
      int warmup,
      int jvmWarmup,
      int p99TargetMs,
      boolean search)
      throws IOException {
    List<List<Object>> rows = new ArrayList<>();
    List<Map<String, Object>> data = new ArrayList<>();
    for (Step s : steps) {
      ChatLoadLedger.Summary m = s.summary();
      ChatLoadLedger.Percentiles p = m.latency();
      rows.add(
          List.of(
              s.config().name(),
              Figures.count(s.offered()),
              Figures.count(Math.round(m.acked() / s.seconds())),
              p.format(p.p50()),
              p.format(p.p99()),
              p.format(p.max()),
              Figures.count(m.acked()) + " / " + Figures.count(m.sent()),
              Figures.count(m.abandoned()),
              s.lost() < 0 ? "not checked" : Figures.count(s.lost()),
              Figures.count(m.undelivered()),
              Figures.count(m.lateSends()),
              failover(s.recovery()),
              s.sustained() ? "yes" : "no: " + s.why()));
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("config", s.config().name());
      d.put("nodes", s.config().nodes());
      d.put("kill", s.config().kill());
      d.put("offered", s.offered());
      d.put("seconds", s.seconds());
      d.put("summary", m);
      d.put("lost", s.lost());
      if (s.recovery() != null) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("nanos", s.recovery().nanos());
        r.put("summary", s.recovery().summary());
        r.put("lost", s.recovery().lost());
        d.put("recovery", r);
      }
      d.put("sustained", s.sustained());
      d.put("why", s.why());
      data.add(d);
    }
    String description =
        "Chat node JVMs on 127.0.0.1 (the sample's jar, default settings but"
            + " connections-per-address = 0, connections-per-node = 20,000 and the default and"
            + " internal dispatchers sized to the machine's cores instead of Pekko's minimum of 8"
            + " and 4 threads, a shared database),"
            + " "
            + clients
            + " WebSocket clients in the bench JVM spread over the nodes, client i in room i mod "
            + rooms
            + ". Open loop: one scheduler sends post k at its intended time t0 + k / rate from"
            + " client k mod "
            + clients
            + ", never waiting for acks; each step "
            + seconds
            + " s after "
            + warmup
            + " s of warm-up at the same rate; every newly started cluster first gets "
            + jvmWarmup
            + " s at half the first step's rate, measured by nobody (the JVMs' JIT warm-up)."
            + " Delivery latency: from the intended send time to"
            + " each participant of the room receiving the message (one clock). Acked / sent:"
            + " posts of the step acknowledged / handed to a socket; abandoned: sent on a"
            + " connection that closed before the ack (the killed node's); lost: acknowledged but"
            + " not in the database; undelivered: deliveries to room members that never arrived;"
            + " late sends: handed to a socket more than 10 ms after the intended time (the"
            + " generator, which shares the machine's cores with the nodes, was late; the wait"
            + " counts in the post's latency). Sustained: p99 ≤ "
            + p99TargetMs
            + " ms, every post sent on a live connection acknowledged, none rejected, none lost,"
            + " no send later than the p99 target (past it the generator, not the chat, may have"
            + " set the pace). Killed: the last node is SIGKILLed after the warm-up; its"
            + " clients reconnect to the others and post what fell due meanwhile. The offered rate"
            + " goes on; the measurement starts once the cluster has recovered (every room has"
            + " acknowledged and delivered to all its members a post intended after the kill, and"
            + " every client has joined again), and is judged like a steady one. Failover: that"
            + " recovery time, the highest delivery latency of the posts intended during it, and"
            + " what it cost (abandoned: the killed node's posts in flight; timed out: posts a"
            + " surviving gateway sent to a room on the killed node, which the gateway answered"
            + " with an error after chat.ack-timeout, 5 s, since their fate is unknown;"
            + " undelivered: deliveries its members missed while reconnecting, the history they get"
            + " on joining again aside); a failover that takes over "
            + RECOVERY_LIMIT.toSeconds()
            + " s, loses an acknowledged post, rejects one or leaves one sent on a live connection"
            + " without an answer fails the step. A timed-out post in a steady step fails it too.";
    List<Map<String, Object>> tables = new ArrayList<>();
    tables.add(
        Figures.table(
            "Chat load: " + clients + " clients, " + rooms + " rooms, offered posts/s per step",
            description,
            List.of(
                "Configuration",
                "Offered/s",
                "Acked/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "Acked / sent",
                "Abandoned",
                "Lost",
                "Undelivered",
                "Late sends",
                "Failover",
                "Sustained"),
            rows));
    if (search) {
      List<List<Object>> maxRows = new ArrayList<>();
      Integer one = best.get("1 node");
      Integer three = best.get("3 nodes");
      for (Map.Entry<String, Integer> e : best.entrySet()) {
        String name = e.getKey();
        int value = e.getValue();
        String ratio =
            name.equals("3 nodes") && one != null && one > 0
                ? Figures.times((double) value / one) + " of 1 node"
                : name.endsWith("killed") && three != null && three > 0
                    ? Figures.times((double) value / three) + " of 3 nodes steady"
                    : "—";
        maxRows.add(
            List.of(
                name,
                value == 0 ? "none" : (capped.get(name) ? "≥ " : "") + Figures.count(value),
                ratio));
      }
      tables.add(
          Figures.table(
              "Highest sustained posts/s with delivery p99 ≤ " + p99TargetMs + " ms",
              "From the steps above, in the same invocation (same JVM settings): the highest"
                  + " offered rate that was sustained. ≥: the search reached the clients' rate"
                  + " limit ("
                  + CHAT_RATE_LIMIT
                  + " posts/s each) without failing.",
              List.of("Configuration", "Posts/s", "Ratio"),
              maxRows));
    }
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("clients", clients);
    parameters.put("rooms", rooms);
    if (!search) {
      parameters.put("ratePerClient", rate);
    }
    parameters.put("seconds", seconds);
    parameters.put("warmup", warmup);
    parameters.put("jvmWarmup", jvmWarmup);
    parameters.put("p99TargetMs", p99TargetMs);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("steps", data);
    document.put("highestSustained", best);
    Figures.write(output, ChatLoadBench.class, parameters, tables, document);
  }

  /**
   * The clients and the cluster they are connected to. A steady configuration keeps its cluster and
   * clients across steps; a killing one starts both afresh for every step.
   */
  private static final class Load implements AutoCloseable {
    final int clientCount;
    final int rooms;
    final Path jar;
    final int seconds;
    final int warmup;
    final int jvmWarmup;
    final long p99TargetNanos;
    final List<HttpClient> httpClients = new ArrayList<>();
    final ExecutorService callbacks = Executors.newFixedThreadPool(4);
    final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    final Map<String, ChatLoadLedger> ledgers = new ConcurrentHashMap<>();
    Config current;
    Nodes nodes;
    String storage;
    volatile List<Client> clients = List.of();
    int stepNumber;

    Load(
        int clientCount,
        int rooms,
        int httpClientCount,
        Path jar,
        int seconds,
        int warmup,
        int jvmWarmup,
        int p99TargetMs) {
      this.clientCount = clientCount;
      this.jvmWarmup = jvmWarmup;
      this.rooms = rooms;
      this.jar = jar;
      this.seconds = seconds;
      this.warmup = warmup;
      this.p99TargetNanos = TimeUnit.MILLISECONDS.toNanos(p99TargetMs);
      // A few HttpClients, each with its selector thread, shared by all WebSockets: not one each.
      for (int i = 0; i < httpClientCount; i++) {
        httpClients.add(HttpClient.newBuilder().executor(callbacks).build());
      }
      // Keep idle connections open (pekko.http.server.idle-timeout is 120 s): every client pings
      // every 30 s, each at its own phase — a slice of the clients every 100 ms. All at once,
      // 3,000 pings and their pongs were a burst that put a delivery p99 spike into any step it
      // fell into.
      timers.scheduleAtFixedRate(this::pingSlice, 100, 100, TimeUnit.MILLISECONDS);
    }

    private int pingTick;

    /** Pings the clients of this 100 ms slot of the 30 s round. */
    private void pingSlice() {
      List<Client> all = clients;
      int slots = 300;
      int slot = pingTick++ % slots;
      for (int i = slot; i < all.size(); i += slots) {
        all.get(i).send("{\"type\":\"ping\"}", null);
      }
    }

    int roomSize(int room) {
      return clientCount / rooms + (room < clientCount % rooms ? 1 : 0);
    }

    Step step(Config config, int offered) throws Exception {
      if (!config.equals(current) || config.kill()) {
        stop();
        storage = storage();
        System.out.println("    storage " + storage.replaceAll("\\?.*", ""));
        nodes = Nodes.start(jar, storage, config.nodes());
        current = config;
        connect();
        warmJvms(offered / 2);
      }
      int n = ++stepNumber;
      System.out.printf(Locale.ROOT, "    step %d: %,d posts/s offered%n", n, offered);
      ChatLoadLedger warm = new ChatLoadLedger();
      ChatLoadLedger measured = new ChatLoadLedger();
      ledgers.put("w" + n, warm);
      ledgers.put("s" + n, measured);
      long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
      long killAt = t0 + TimeUnit.SECONDS.toNanos(warmup);
      // A killing step measures only once the cluster has recovered from the kill (every room
      // acknowledges and delivers again, every client has joined again); until then the posts go
      // to the recovery ledger. p99 <= 100 ms cannot hold across failure detection (seconds).
      ChatLoadLedger recovering = config.kill() ? new ChatLoadLedger() : null;
      if (recovering != null) {
        ledgers.put("r" + n, recovering);
      }
      AtomicLong recoveredAt = new AtomicLong(-1);
      ScheduledFuture<?> watch =
          recovering == null
              ? null
              : timers.scheduleAtFixedRate(
                  () -> {
                    if (recoveredAt.get() < 0
                        && System.nanoTime() > killAt
                        && clients.stream().allMatch(Client::isJoined)
                        && recovering.roomsSettledSince(killAt).size() == rooms) {
                      recoveredAt.set(System.nanoTime());
                    }
                  },
                  50,
                  50,
                  TimeUnit.MILLISECONDS);
      long measureFrom = recovering == null ? killAt : Long.MAX_VALUE; // set once recovered
      long end =
          recovering == null ? measureFrom + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
      boolean killed = false;
      boolean gaveUp = false;
      for (long k = 0; ; k++) {
        long intended = t0 + (long) (k * 1e9 / offered);
        if (intended >= end) {
          break;
        }
        if (recovering != null && !killed && intended >= killAt) {
          nodes.kill(config.nodes() - 1);
          killed = true;
          System.out.println("    node " + config.nodes() + " SIGKILLed");
        }
        if (killed && measureFrom == Long.MAX_VALUE) {
          long r = recoveredAt.get();
          if (r >= 0 && intended >= r) {
            measureFrom = intended;
            end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            System.out.printf(
                Locale.ROOT, "    recovered %.1f s after the kill%n", (r - killAt) / 1e9);
          } else if (intended - killAt > RECOVERY_LIMIT.toNanos()) {
            gaveUp = true;
            break;
          }
        }
        String phase = intended >= measureFrom ? "s" : killed ? "r" : "w";
        ChatLoadLedger ledger = phase.equals("s") ? measured : killed ? recovering : warm;
        postAt(intended, k, phase + n, ledger);
      }
      if (watch != null) {
        watch.cancel(false);
      }
      double took = gaveUp ? 0 : (end - measureFrom) / 1e9;
      drain(measured, true);
      Recovery recovery = null;
      if (recovering != null) {
        drain(recovering, false);
        long r = recoveredAt.get();
        recovery =
            new Recovery(
                gaveUp || r < 0 ? -1 : r - killAt,
                recovering.summary(),
                lost(storage, recovering.acknowledged()));
      }
      ChatLoadLedger.Summary summary = measured.summary();
      long lost = lost(storage, measured.acknowledged());
      ledgers.remove("w" + n);
      ledgers.remove("r" + n);
      ledgers.remove("s" + n);
      Step step = judge(config, offered, took, summary, lost, recovery);
      ChatLoadLedger.Percentiles p = summary.latency();
      if (recovery != null) {
        ChatLoadLedger.Summary rs = recovery.summary();
        System.out.printf(
            Locale.ROOT,
            "      recovery %s: sent %d, acked %d, abandoned %d, timed out %d, rejected %d,"
                + " unacked %d, lost %d, undelivered %d, max %s ms%n",
            recovery.recovered()
                ? String.format(Locale.ROOT, "%.1f s", recovery.nanos() / 1e9)
                : "not within " + RECOVERY_LIMIT.toSeconds() + " s",
            rs.sent(),
            rs.acked(),
            rs.abandoned(),
            rs.timedOut(),
            rs.rejected(),
            rs.unacked() + rs.failed(),
            recovery.lost(),
            rs.undelivered(),
            rs.latency().format(rs.latency().max()));
      }
      System.out.printf(
          Locale.ROOT,
          "      sent %d, acked %d, abandoned %d, rejected %d, unacked %d, failed %d, lost %d,"
              + " undelivered %d, late sends %d, p50 %s ms, p99 %s ms, max %s ms: %s%n",
          summary.sent(),
          summary.acked(),
          summary.abandoned(),
          summary.rejected(),
          summary.unacked(),
          summary.failed(),
          lost,
          summary.undelivered(),
          summary.lateSends(),
          p.format(p.p50()),
          p.format(p.p99()),
          p.format(p.max()),
          step.sustained() ? "sustained" : "not sustained (" + step.why() + ")");
      return step;
    }

    /**
     * Fresh node JVMs interpret and compile for their first minute or so (with three JVMs on two
     * cores, C2 alone took a fifth of a core per node after a minute): {@code jvmWarmup} seconds at
     * {@code rate} posts/s, measured by nobody, before a new cluster's first step.
     */
    void warmJvms(int rate) throws InterruptedException {
      if (jvmWarmup == 0 || rate < 1) {
        return;
      }
      System.out.printf(Locale.ROOT, "    JVM warm-up: %d s at %,d posts/s%n", jvmWarmup, rate);
      String key = "j" + (stepNumber + 1);
      ChatLoadLedger ledger = new ChatLoadLedger();
      ledgers.put(key, ledger);
      long t0 = System.nanoTime();
      long end = t0 + TimeUnit.SECONDS.toNanos(jvmWarmup);
      for (long k = 0; ; k++) {
        long intended = t0 + (long) (k * 1e9 / rate);
        if (intended >= end) {
          break;
        }
        postAt(intended, k, key, ledger);
      }
      drain(ledger, true);
      ledgers.remove(key);
    }

    /**
     * Waits until {@code intended} (the open-loop schedule: the intended time, not an ack), then
     * has client k mod N send post {@code k}, planned in {@code ledger} under an id starting with
     * {@code ledgerKey} (how {@link #ledger} finds the ledger again).
     */
    private void postAt(long intended, long k, String ledgerKey, ChatLoadLedger ledger) {
      long wait = intended - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      Client c = clients.get((int) (k % clientCount));
      String id = ledgerKey + "-" + c.index + "-" + k;
      ledger.planned(id, c.room, intended, roomSize(c.index % rooms));
      c.post(id, ledger);
    }

    Step judge(
        Config config,
        int offered,
        double took,
        ChatLoadLedger.Summary s,
        long lost,
        Recovery recovery) {
      List<String> why = new ArrayList<>();
      if (recovery != null) {
        // The failover: it must end in time, and lose nothing; the killed node's posts in flight
        // are abandoned (the client cannot know their fate) and its members miss deliveries while
        // they reconnect (they get the history when they join again).
        ChatLoadLedger.Summary r = recovery.summary();
        if (!recovery.recovered()) {
          why.add("not recovered within " + RECOVERY_LIMIT.toSeconds() + " s");
        }
        if (r.unacked() + r.failed() > 0) {
          why.add((r.unacked() + r.failed()) + " not acked in the failover");
        }
        if (r.rejected() > 0) {
          why.add(r.rejected() + " rejected in the failover");
        }
        if (recovery.lost() != 0) {
          why.add(recovery.lost() + " lost in the failover");
        }
      }
      if (s.latency().empty()) {
        why.add("no deliveries");
      } else if (s.latency().p99() > p99TargetNanos) {
        why.add("p99 above target");
      }
      if (s.unacked() > 0 || s.failed() > 0) {
        why.add((s.unacked() + s.failed()) + " not acked");
      }
      if (s.abandoned() > 0) {
        why.add(s.abandoned() + " abandoned");
      }
      if (s.rejected() > 0) {
        why.add(s.rejected() + " rejected");
      }
      if (s.timedOut() > 0) {
        why.add(s.timedOut() + " timed out");
      }
      if (lost != 0) {
        why.add(lost + " lost");
      }
      if (s.undelivered() > 0) {
        why.add(s.undelivered() + " undelivered");
      }
      // A late send only makes its latency look worse (it counts from the intended time). With
      // 3,000 clients the generator's thread, sharing two cores with three node JVMs and the
      // database, was 10+ ms late for 2-3 % of its sends at any rate (they are counted and shown);
      // a send later than the whole latency target means the generator, not the chat, set the
      // pace of what followed it.
      if (s.maxSendLagNanos() > p99TargetNanos) {
        why.add("generator behind");
      }
      return new Step(
          config, offered, took, s, lost, recovery, why.isEmpty(), String.join(", ", why));
    }

    /**
     * Waits until every post of the step is settled (and, with {@code delivered}, delivered to all
     * its room's members), or 10 s.
     */
    void drain(ChatLoadLedger ledger, boolean delivered) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        ChatLoadLedger.Summary s = ledger.summary();
        if (s.unacked() == 0 && s.failed() == 0 && (!delivered || s.undelivered() == 0)) {
          return;
        }
        Thread.sleep(100); // polling the ledger the listeners fill
      }
    }

    void connect() throws InterruptedException {
      List<Client> all = new ArrayList<>();
      for (int i = 0; i < clientCount; i++) {
        all.add(new Client(this, i, "room" + (i % rooms), i % nodes.httpPorts.size()));
      }
      clients = all;
      CountDownLatch joined = new CountDownLatch(clientCount);
      Semaphore connecting = new Semaphore(100); // no SYN storm: at most 100 handshakes at once
      for (Client c : all) {
        connecting.acquire();
        c.onFirstJoin =
            () -> {
              connecting.release();
              joined.countDown();
            };
        c.connect();
      }
      if (!joined.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            joined.getCount() + " of " + clientCount + " clients did not join their room");
      }
      System.out.println("    " + clientCount + " clients joined");
    }

    ChatLoadLedger ledger(String id) {
      int dash = id.indexOf('-');
      return dash < 0 ? null : ledgers.get(id.substring(0, dash));
    }

    void stop() throws Exception {
      clients.forEach(Client::abort);
      clients = List.of();
      if (nodes != null) {
        nodes.close();
        nodes = null;
        dropDatabase(storage);
      }
    }

    @Override
    public void close() throws Exception {
      stop();
      timers.shutdownNow();
      callbacks.shutdownNow();
    }
  }

  /**
   * One WebSocket client: joins its room, sends what the scheduler hands it without waiting for
   * acks (chaining sends on its socket, which takes one at a time), queues posts while it
   * reconnects to the next live node and sends them once it has joined again.
   */
  private static final class Client {
    final Load load;
    final int index;
    final String room;
    int node;
    WebSocket ws; // guarded by this; null while connecting
    boolean joined; // guarded by this
    CompletableFuture<?> tail = CompletableFuture.completedFuture(null); // guarded by this
    final ArrayDeque<String> outbox = new ArrayDeque<>(); // guarded by this
    final Set<String> inFlight = new HashSet<>(); // guarded by this
    volatile boolean aborted;
    Runnable onFirstJoin;

    Client(Load load, int index, String room, int node) {
      this.load = load;
      this.index = index;
      this.room = room;
      this.node = node;
    }

    void connect() {
      if (aborted) {
        return;
      }
      List<Integer> ports = load.nodes.httpPorts;
      int port = ports.get(node);
      if (port < 0) {
        node = (node + 1) % ports.size();
        load.timers.execute(this::connect);
        return;
      }
      load.httpClients
          .get(index % load.httpClients.size())
          .newWebSocketBuilder()
          .connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), new Listener())
          .thenCompose(
              socket -> {
                synchronized (this) {
                  ws = socket;
                  tail = CompletableFuture.completedFuture(null);
                }
                return socket.sendText(
                    "{\"type\":\"join\",\"room\":\"" + room + "\",\"user\":\"c" + index + "\"}",
                    true);
              })
          .whenComplete(
              (r, e) -> {
                if (e != null) {
                  closed(null);
                }
              });
    }

    /** A post due now: sent on the socket, or queued until the client has joined again. */
    void post(String id, ChatLoadLedger ledger) {
      synchronized (this) {
        if (ws == null || !joined) {
          outbox.add(id);
          return;
        }
      }
      send(postFrame(id), id);
    }

    String postFrame(String id) {
      return "{\"type\":\"post\",\"room\":\""
          + room
          + "\",\"id\":\""
          + id
          + "\",\"text\":\""
          + id
          + "\"}";
    }

    /** Chains {@code frame} after the socket's previous send; {@code id} is a post's, or null. */
    synchronized void send(String frame, String id) {
      WebSocket socket = ws;
      if (socket == null || !joined) {
        return; // a ping while reconnecting; posts go through post()
      }
      if (id != null) {
        inFlight.add(id);
      }
      tail =
          tail.thenCompose(
                  v -> {
                    if (id != null) {
                      ChatLoadLedger l = load.ledger(id);
                      if (l != null) {
                        l.sent(id, System.nanoTime());
                      }
                    }
                    return socket.sendText(frame, true);
                  })
              .handle(
                  (r, e) -> {
                    if (e != null && id != null) {
                      ChatLoadLedger l = load.ledger(id);
                      if (l != null) {
                        l.connectionClosed(id);
                      }
                    }
                    return null;
                  });
    }

    synchronized boolean isJoined() {
      return joined;
    }

    void onJoined() {
      List<String> due;
      Runnable first;
      synchronized (this) {
        joined = true;
        due = new ArrayList<>(outbox);
        outbox.clear();
        first = onFirstJoin;
        onFirstJoin = null;
      }
      due.forEach(id -> send(postFrame(id), id));
      if (first != null) {
        first.run();
      }
    }

    /** The connection is gone: posts in flight are abandoned; reconnect to the next live node. */
    void closed(WebSocket which) {
      List<String> abandoned;
      synchronized (this) {
        if (which != null && which != ws) {
          return;
        }
        ws = null;
        joined = false;
        abandoned = new ArrayList<>(inFlight);
        inFlight.clear();
      }
      for (String id : abandoned) {
        ChatLoadLedger l = load.ledger(id);
        if (l != null) {
          l.connectionClosed(id);
        }
      }
      if (!aborted) {
        node = (node + 1) % load.nodes.httpPorts.size();
        load.timers.schedule(this::connect, 200, TimeUnit.MILLISECONDS);
      }
    }

    void abort() {
      aborted = true;
      WebSocket socket;
      synchronized (this) {
        socket = ws;
      }
      if (socket != null) {
        socket.abort();
      }
    }

    private final class Listener implements WebSocket.Listener {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          String frame = partial.toString();
          partial.setLength(0);
          onFrame(frame, System.nanoTime());
        }
        socket.request(1);
        return null;
      }

      private void onFrame(String frame, long now) {
        if (frame.endsWith("\"type\":\"message\"}")) { // the chat writes "type" last here
          Matcher text = TEXT.matcher(frame);
          if (text.find()) {
            ChatLoadLedger l = load.ledger(text.group(1));
            if (l != null) {
              l.delivered(text.group(1), index, now);
            }
          }
        } else if (frame.startsWith("{\"type\":\"ack\"")) {
          Matcher id = ID.matcher(frame);
          Matcher seq = SEQ.matcher(frame);
          if (id.find() && seq.find()) {
            settled(id.group(1));
            ChatLoadLedger l = load.ledger(id.group(1));
            if (l != null) {
              l.acked(id.group(1), Long.parseLong(seq.group(1)), now);
            }
          }
        } else if (frame.startsWith("{\"type\":\"error\"")) {
          Matcher id = ID.matcher(frame);
          if (id.find()) {
            settled(id.group(1));
            ChatLoadLedger l = load.ledger(id.group(1));
            if (l != null && frame.contains("no acknowledgement within")) {
              l.timedOut(id.group(1)); // chat.ack-timeout: the room never answered
            } else if (l != null) {
              l.rejected(id.group(1));
            }
          } else {
            System.out.println("    client c" + index + ": " + frame);
          }
        } else if (frame.startsWith("{\"type\":\"history\"")) {
          Matcher r = ROOM.matcher(frame);
          if (r.find() && r.group(1).equals(room)) {
            onJoined();
          }
        }
      }

      private void settled(String id) {
        synchronized (Client.this) {
          inFlight.remove(id);
        }
      }

      @Override
      public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
        closed(socket);
        return null;
      }

      @Override
      public void onError(WebSocket socket, Throwable error) {
        closed(socket);
      }
    }
  }

  /** Acknowledged posts whose text (their id) is not stored under their room and seq. */
  private static long lost(String storage, List<ChatLoadLedger.Acked> acked) throws Exception {
    Map<String, String> stored = new HashMap<>();
    try (Connection c = DriverManager.getConnection(storage);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT room, seq, body FROM chat_message")) {
      while (rs.next()) {
        stored.put(rs.getString(1) + "#" + rs.getLong(2), rs.getString(3));
      }
    }
    return ChatLoadLedger.lost(acked, stored);
  }

  /**
   * The database: a fresh PostgreSQL database if one is reachable, else an H2 file in auto-server
   * mode.
   */
  private static String storage() throws Exception {
    String url = System.getenv("TROUPE_TEST_POSTGRES_URL");
    if (url == null || url.isBlank()) {
      url = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      String db = "chat_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      s.execute("CREATE DATABASE " + db);
      return url.replaceFirst("/[^/?]+(\\?|$)", "/" + db + "$1");
    } catch (Exception e) {
      Path dir = Files.createTempDirectory("chat-bench");
      return "jdbc:h2:file:" + dir.resolve("chat") + ";AUTO_SERVER=TRUE";
    }
  }

  /** Drops the PostgreSQL database {@link #storage()} created (an H2 file stays in /tmp). */
  private static void dropDatabase(String storage) {
    if (!storage.startsWith("jdbc:postgresql:")) {
      return;
    }
    String db = storage.replaceFirst("^.*/([^/?]+)(\\?.*)?$", "$1");
    String admin = storage.replaceFirst("/" + db, "/postgres");
    try (Connection c = DriverManager.getConnection(admin);
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    } catch (Exception e) {
      System.out.println("    (could not drop database " + db + ": " + e.getMessage() + ")");
    }
  }

  /** The chat node processes. */
  private static final class Nodes implements AutoCloseable {
    final List<Process> processes = new ArrayList<>();
    final List<Integer> httpPorts = new ArrayList<>();

    static Nodes start(Path jar, String storage, int count) throws Exception {
      Nodes nodes = new Nodes();
      int seedPort = freePort();
      String seed = "pekko://troupe@127.0.0.1:" + seedPort;
      Path logs = Files.createDirectories(Path.of("target", "chat-bench"));
      for (int i = 0; i < count; i++) {
        int http = freePort();
        int management = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        // every simulated client connects from 127.0.0.1
        command.add("-Dchat.limits.connections-per-address=0");
        // all clients on one node (the baseline, or two survivors of three), with room; the HTTP
        // server's own limit above it, as the chat's application.conf asks
        command.add("-Dchat.limits.connections-per-node=20000");
        command.add("-Dpekko.http.server.max-connections=24000");
        // Three node JVMs share the machine's cores: Pekko's default dispatcher sizes (at least 8
        // fork-join threads, and 4 internal) oversubscribe them. Sized to the cores, one
        // comparison of the 3-node chat at 100 posts/s went from ~35 % to ~28 % of a core per node
        // and from 116 to 52 ms delivery p99 (docs/PERFORMANCE.md). The same for every
        // configuration, the 1-node baseline included.
        int cores = Runtime.getRuntime().availableProcessors();
        for (String dispatcher : List.of("default-dispatcher", "internal-dispatcher")) {
          String prefix = "-Dpekko.actor." + dispatcher + ".fork-join-executor.parallelism-";
          command.add(prefix + "min=" + cores);
          command.add(prefix + "max=" + cores);
        }
        // CHAT_NODE_JVM_ARGS: extra options for every node JVM, e.g. a flight recording;
        // {node} becomes the node's number
        String extra = System.getenv().getOrDefault("CHAT_NODE_JVM_ARGS", "").trim();
        if (!extra.isEmpty()) {
          for (String option : extra.split("\\s+")) {
            command.add(option.replace("{node}", Integer.toString(i + 1)));
          }
        }
        command.addAll(
            List.of(
                "-jar",
                jar.toString(),
                "--name",
                "bench-" + (i + 1),
                "--port",
                Integer.toString(i == 0 ? seedPort : freePort()),
                "--http-port",
                Integer.toString(http),
                "--management-port",
                Integer.toString(management),
                "--seed",
                seed,
                "--storage",
                storage));
        ProcessBuilder pb = new ProcessBuilder(command);
        File log = logs.resolve("node-" + (i + 1) + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(log);
        nodes.processes.add(pb.start());
        nodes.httpPorts.add(http);
        awaitReady(management);
      }
      awaitMembers(nodes.httpPorts.get(0), count);
      return nodes;
    }

    void kill(int i) throws InterruptedException {
      processes.get(i).destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      httpPorts.set(i, -1);
    }

    @Override
    public void close() throws InterruptedException {
      for (Process p : processes) {
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String get(int port, String path) {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Waits for Pekko Management's /ready (Troupe's and the chat's readiness checks). */
  private static void awaitReady(int managementPort) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (get(managementPort, "/ready") == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "chat node with management port "
                + managementPort
                + " not ready; see target/chat-bench/");
      }
      Thread.sleep(200); // polling an HTTP endpoint of another process
    }
  }

  private static void awaitMembers(int port, int members) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    Pattern status = Pattern.compile("\"status\":\"Up\"");
    while (true) {
      String body = get(port, "/api/dashboard");
      if (body != null && status.matcher(body).results().count() >= members) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the chat cluster did not reach " + members + " members");
      }
      Thread.sleep(200); // polling an HTTP endpoint of another process
    }
  }
}
