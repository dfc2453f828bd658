package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Issue 20, item 6: a seeded fuzzer in the fault tiers. Three chat node JVMs on loopback, on
 * PostgreSQL when it is reachable (as in CI) and otherwise on an H2 file they share ({@code
 * -Dtroupe.fuzz.database=postgres|h2} chooses); nine real clients, three on each node, chat in four
 * rooms all along; meanwhile {@link FuzzActions} throws malformed, oversized, truncated and
 * out-of-order HTTP requests and WebSocket frames at every endpoint of every node, the chat's and
 * Pekko Management's, from several threads. Afterwards:
 *
 * <ul>
 *   <li>no finding: no 5xx (but the 501 and 505 HTTP prescribes for an unknown method or version),
 *       no refused connection, no 101 to a foreign origin, no file outside the public ones, no
 *       write through Management accepted;
 *   <li>every node is alive, Up in every node's view, {@code /ready} and {@code /alive} answer 200
 *       and the page {@code GET /} 200; no member was downed or removed;
 *   <li>the real clients kept working: their connections stayed open, every post was acknowledged
 *       or refused by the rate limit (nothing lost, nothing else refused), and in every quarter of
 *       the fuzz every client had acknowledgements and messages from the others;
 *   <li>every acknowledged post is stored once ({@code chat_message} plus {@code chat_archive}),
 *       under its acknowledged seq, with its text; no seq of a room is stored twice;
 *   <li>a newcomer on any node gets the history of every room the run used, and every message in it
 *       is in the log;
 *   <li>once the fuzzer's connections are gone, each node's gateways ({@code chat_connections} on
 *       {@code /metrics}, the {@code chat-gateways} group) are the real clients' again, and none
 *       once they leave; each node's heap after a full GC is within {@value #HEAP_MARGIN_MIB} MiB
 *       of its baseline taken after the warm-up, and its threads and open file descriptors are back
 *       near theirs.
 * </ul>
 *
 * <p>{@code -Dtroupe.fuzz.seed=N} replays a run's actions ({@code troupe.fuzz.workers} threads,
 * default 4, each with its own seeded sequence; without the property the seed is random and printed
 * first); {@code -Dtroupe.fuzz.seconds=S} sets how long the fuzz runs after its warm-up (default
 * 30, about a minute in all, in the default build; the long form is 300). The run prints every
 * action kind with its outcomes, to {@code
 * target/failsafe-reports/dev.troupe.samples.chat.ChatFuzzIT-output.txt}.
 */
final class ChatFuzzIT {
  private static final long SEED =
      Long.getLong("troupe.fuzz.seed", new Random().nextLong() & Long.MAX_VALUE);
  private static final int SECONDS = Integer.getInteger("troupe.fuzz.seconds", 30);
  private static final int WORKERS = Integer.getInteger("troupe.fuzz.workers", 4);
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final int NODES = 3;
  private static final int CLIENTS_PER_NODE = 3;
  private static final List<String> ROOMS = List.of("real-0", "real-1", "real-2", "real-3");
  private static final long PACE_MILLIS = 250;
  private static final long HEAP_MARGIN_MIB = 32;
  private static final int THREAD_MARGIN = 16;
  private static final int FD_MARGIN = 32;
  private static final Pattern CONNECTIONS =
      Pattern.compile("(?m)^chat_connections\\{[^}]*\\}\\s+(\\S+)$");

  /** A post a real client sent. */
  private record Sent(String room, String text) {}

  /**
   * A real client: joins two rooms on its node, then posts to them in turn every {@value
   * #PACE_MILLIS} ms until told to stop, and stays connected until told to leave. It remembers what
   * it sent, what was acknowledged or refused, when, and anything it did not expect.
   */
  private static final class RealClient extends Thread {
    final String user;
    final int port;
    final int node;
    final List<String> rooms;
    final Map<String, Sent> sent = new ConcurrentHashMap<>();
    final Map<String, String> refused = new ConcurrentHashMap<>();
    final Queue<Long> ackTimes = new ConcurrentLinkedQueue<>();
    final Queue<Long> deliveryTimes = new ConcurrentLinkedQueue<>();
    final Queue<String> troubles = new ConcurrentLinkedQueue<>();
    final CountDownLatch joined = new CountDownLatch(1);
    final Set<String> ackSeen = new HashSet<>();
    volatile boolean posting = true;
    volatile boolean running = true;
    volatile WsClient client;

    RealClient(String user, int node, int port, List<String> rooms) {
      super("real-client-" + user);
      this.user = user;
      this.node = node;
      this.port = port;
      this.rooms = rooms;
    }

    @Override
    public void run() {
      try (WsClient c = WsClient.connect(port)) {
        client = c;
        for (String room : rooms) {
          c.join(room, user);
        }
        for (String room : rooms) {
          c.await(
              f ->
                  f.path("type").asText().equals("history") && f.path("room").asText().equals(room),
              "history of " + room);
        }
        joined.countDown();
        int n = 0;
        while (running) {
          if (c.isClosed()) {
            troubles.add("the node closed the connection");
            return;
          }
          if (posting) {
            String room = rooms.get(n % rooms.size());
            String id = user + "-" + n++;
            sent.put(id, new Sent(room, "real " + id + " of run " + SEED));
            c.post(room, id, sent.get(id).text());
          }
          drain(c);
          Thread.sleep(PACE_MILLIS); // this client's posting pace, not a synchronisation
        }
        drain(c);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception | AssertionError e) {
        troubles.add(String.valueOf(e));
      } finally {
        joined.countDown();
      }
    }

    private void drain(WsClient c) {
      long now = System.nanoTime();
      for (String id : c.acks().keySet()) {
        if (ackSeen.add(id)) {
          ackTimes.add(now);
        }
      }
      List<JsonNode> frames = c.seen();
      for (JsonNode frame : frames) {
        String type = frame.path("type").asText();
        if (type.equals("message") && !frame.path("user").asText().equals(user)) {
          deliveryTimes.add(now);
        } else if (type.equals("error")
            && frame.hasNonNull("id")
            && sent.containsKey(frame.path("id").asText())) {
          refused.put(frame.path("id").asText(), frame.path("error").asText());
        } else if (type.equals("error") || type.equals("notice") || type.equals("unparsable")) {
          troubles.add("unexpected " + frame);
        }
      }
      frames.clear();
    }

    Map<String, Long> acked() {
      WsClient c = client;
      return c == null ? Map.of() : c.acks();
    }

    boolean allAnswered() {
      return sent.keySet().stream()
          .allMatch(id -> acked().containsKey(id) || refused.containsKey(id));
    }
  }

  /** A node's resource use at one moment. */
  private record Usage(long heapBytes, int threads, long fds) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "heap %d MiB, %d threads, %d fds", heapBytes >> 20, threads, fds);
    }
  }

  @Test
  void aSeededFuzzOfEveryEndpointLeavesEveryNodeUpFlatAndEveryAcknowledgedPostStoredOnce()
      throws Exception {
    String database = System.getProperty("troupe.fuzz.database", "auto");
    if (database.equals("postgres")
        || (database.equals("auto") && TestDatabases.postgresReachable())) {
      try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres()) {
        fuzz("PostgreSQL", db.url());
      }
    } else {
      // AUTO_SERVER: the three node JVMs (and this one, for the checks) share one H2 file; its
      // cache is capped so that the heap of the JVM serving it does not grow with the data.
      Path dir = Path.of("target", "fuzz-it-" + System.nanoTime()).toAbsolutePath();
      fuzz("H2", "jdbc:h2:file:" + dir.resolve("chat") + ";AUTO_SERVER=TRUE;CACHE_SIZE=8192");
    }
  }

  private void fuzz(String database, String url) throws Exception {
    System.out.printf(
        "ChatFuzzIT: seed %d (replay with -Dtroupe.fuzz.seed=%d), %d s of fuzz, %d workers, %s%n",
        SEED, SEED, SECONDS, WORKERS, database);
    long started = System.nanoTime();
    String config =
        String.join(
            "\n",
            "troupe.storage.url = \"" + url + "\"",
            "chat.http.port = 0",
            "pekko.management.http.port = 0",
            "chat { max-frame-bytes = "
                + FuzzActions.MAX_FRAME_BYTES
                + ", rate-limit-per-second"
                + " = 10, archive-after = 2s, archive-interval = 1s }",
            // every connection comes from 127.0.0.1: no per-address or per-node connection limit
            "chat.limits { connections-per-address = 100000, connections-per-node = 100000 }");
    // Troupe's own failure-detector and downing timings, not the test kit's shorter ones: the
    // nodes are judged as they are shipped.
    try (ProcessCluster cluster =
        ProcessCluster.builder()
            .size(NODES)
            .testTimings(false)
            .config(config)
            .mainClass(FuzzChildNode.class)
            .start()) {
      List<FuzzActions.Target> targets = new ArrayList<>();
      for (NodeProcess node : cluster.nodes()) {
        // one after the other: the first to open the H2 file serves it to the others
        node.send("chat");
        int http = portFrom(node.awaitLine(l -> l.startsWith("TROUPE-CHAT http "), TIMEOUT));
        int management = portFrom(node.awaitLine(l -> l.startsWith("TROUPE-MANAGEMENT "), TIMEOUT));
        targets.add(new FuzzActions.Target(node.index(), http, management, node.address()));
      }
      Set<String> members =
          cluster.nodes().stream().map(NodeProcess::address).collect(Collectors.toSet());
      long clusterUp = System.nanoTime();

      List<RealClient> clients = new ArrayList<>();
      for (int i = 0; i < NODES * CLIENTS_PER_NODE; i++) {
        int node = i % NODES;
        RealClient client =
            new RealClient(
                "c" + i,
                node,
                targets.get(node).httpPort(),
                List.of(ROOMS.get(i % ROOMS.size()), ROOMS.get((i + 1) % ROOMS.size())));
        clients.add(client);
        client.start();
      }
      for (RealClient client : clients) {
        assertTrue(
            client.joined.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS), client.user + " joined");
        assertTrue(
            client.troubles.isEmpty(), client.user + " joined its rooms: " + client.troubles);
      }
      Eventually.awaitCondition(
          TIMEOUT,
          "every real client has acknowledged posts",
          () -> clients.stream().allMatch(c -> c.acked().size() >= 3));

      FuzzReport report = new FuzzReport();
      FuzzActions actions = new FuzzActions(targets, ROOMS, report);
      Random master = new Random(SEED);
      List<Random> workers = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        workers.add(new Random(master.nextLong()));
      }
      ExecutorService pool =
          Executors.newFixedThreadPool(
              WORKERS,
              r -> {
                Thread t = new Thread(r, "fuzz-worker");
                t.setDaemon(true);
                return t;
              });
      Map<Integer, Usage> baseline = new HashMap<>();
      Map<Integer, Usage> after = new HashMap<>();
      long fuzzStart;
      long fuzzEnd;
      try {
        // Warm-up: every kind of action once, so that what the nodes load or allocate once is in
        // the baseline.
        List<Future<?>> warmUp = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
          int worker = w;
          warmUp.add(
              pool.submit(
                  () -> {
                    for (int k = worker; k < actions.kinds(); k += WORKERS) {
                      actions.runKind(k, workers.get(worker));
                    }
                  }));
        }
        awaitWorkers(warmUp, System.nanoTime() + TIMEOUT.toNanos(), "the warm-up");
        for (NodeProcess node : cluster.nodes()) {
          baseline.put(node.index(), usage(node));
        }

        fuzzStart = System.nanoTime();
        fuzzEnd = fuzzStart + TimeUnit.SECONDS.toNanos(SECONDS);
        long end = fuzzEnd;
        List<Future<?>> fuzz = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
          Random random = workers.get(w);
          fuzz.add(
              pool.submit(
                  () -> {
                    while (System.nanoTime() < end) {
                      actions.runRandom(random);
                    }
                  }));
        }
        // An action lives at most FuzzActions.LIFETIME_MILLIS: the workers end soon after the
        // fuzz does, or the fuzzer hangs, which is a failure.
        awaitWorkers(fuzz, fuzzEnd + TimeUnit.SECONDS.toNanos(60), "the fuzz");
      } finally {
        pool.shutdownNow();
      }
      long fuzzDone = System.nanoTime();
      System.out.printf(
          "ChatFuzzIT: seed %d, %d actions (warm-up: every kind once, then %d s with %d workers)%n%s",
          SEED, report.actions(), SECONDS, WORKERS, report.table());

      clients.forEach(c -> c.posting = false);
      long start = fuzzStart;
      long stop = fuzzEnd;
      List<Executable> checks = new ArrayList<>();
      checks.add(
          () ->
              assertTrue(
                  report.findings().isEmpty(),
                  report.findings().size()
                      + " finding(s):\n"
                      + report.findings().stream()
                          .map(Object::toString)
                          .collect(Collectors.joining("\n"))));
      checks.add(() -> everyNodeIsUpAndAnswers(cluster, targets, members));
      checks.add(() -> realClientsKeptWorking(clients, start, stop));
      checks.add(() -> everyAcknowledgedPostIsStoredOnce(url, clients));
      checks.add(() -> onlyTheRealClientsGatewaysAreLeft(targets, clients));
      checks.add(
          () -> {
            for (NodeProcess node : cluster.nodes()) {
              after.put(node.index(), usage(node));
            }
            resourcesAreFlat(cluster, baseline, after);
          });
      checks.add(() -> newcomersGetEveryRoomsHistory(targets, url));
      checks.add(() -> gatewaysGoWithTheirClients(targets, clients));
      try {
        assertAll("the fuzzed cluster (seed " + SEED + ")", checks.toArray(new Executable[0]));
      } finally {
        clients.forEach(c -> c.running = false);
        for (RealClient c : clients) {
          c.join(TIMEOUT.toMillis());
        }
        System.out.printf(
            "ChatFuzzIT: seed %d; cluster up in %d s, fuzz %d s (+%d s warm-up), whole run %d s%n",
            SEED,
            TimeUnit.NANOSECONDS.toSeconds(clusterUp - started),
            TimeUnit.NANOSECONDS.toSeconds(fuzzDone - fuzzStart),
            TimeUnit.NANOSECONDS.toSeconds(fuzzStart - clusterUp),
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        for (NodeProcess node : cluster.nodes()) {
          System.out.printf(
              "ChatFuzzIT: %s baseline %s, after %s%n",
              node.name(), baseline.get(node.index()), after.get(node.index()));
        }
        printClients(clients);
        List<String> events =
            cluster.nodes().stream()
                .flatMap(
                    n ->
                        n.lines().stream()
                            .filter(l -> l.startsWith("TROUPE-EVENT"))
                            .map(l -> n.name() + ": " + l))
                .toList();
        System.out.println(
            "ChatFuzzIT: membership events: " + (events.isEmpty() ? "none" : events));
      }
    }
  }

  private static int portFrom(String line) {
    String[] words = line.trim().split(" ");
    return Integer.parseInt(words[words.length - 1]);
  }

  private static void awaitWorkers(List<Future<?>> workers, long deadlineNanos, String what)
      throws Exception {
    for (Future<?> worker : workers) {
      try {
        worker.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        fail("the fuzzer hung: " + what + " did not end by its deadline");
      }
    }
  }

  /** The node's heap after a full GC and its threads (it reports them), its open descriptors. */
  private static Usage usage(NodeProcess node) {
    int from = node.lineCount();
    node.send("heap");
    String[] words =
        node.awaitLineAfter(from, l -> l.startsWith("TROUPE-HEAP "), TIMEOUT).split(" ");
    return new Usage(Long.parseLong(words[1]), Integer.parseInt(words[2]), fds(node));
  }

  /** Open file descriptors of the node's process (Linux); -1 where /proc does not tell. */
  private static long fds(NodeProcess node) {
    Path fd = Path.of("/proc", Long.toString(node.pid()), "fd");
    if (!Files.isDirectory(fd)) {
      return -1;
    }
    try (Stream<Path> open = Files.list(fd)) {
      return open.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void everyNodeIsUpAndAnswers(
      ProcessCluster cluster, List<FuzzActions.Target> targets, Set<String> members) {
    for (NodeProcess node : cluster.nodes()) {
      assertTrue(node.isAlive(), node.name() + "'s process is alive");
      List<String> lost =
          node.lines().stream()
              .filter(
                  l -> l.startsWith("TROUPE-EVENT DOWNED") || l.startsWith("TROUPE-EVENT REMOVED"))
              .toList();
      assertTrue(lost.isEmpty(), node.name() + " saw members go: " + lost);
    }
    for (FuzzActions.Target target : targets) {
      Eventually.awaitAssert(
          TIMEOUT,
          target.name() + " is ready, alive, serves its page and sees all members Up",
          () -> {
            assertEquals(200, get(target.managementPort(), "/ready").statusCode(), "/ready");
            assertEquals(200, get(target.managementPort(), "/alive").statusCode(), "/alive");
            assertEquals(200, get(target.httpPort(), "/").statusCode(), "GET /");
            assertEquals(members, upMembers(target.managementPort()), "/cluster/members");
          });
    }
  }

  private static void realClientsKeptWorking(
      List<RealClient> clients, long fuzzStart, long fuzzEnd) {
    Eventually.awaitCondition(
        TIMEOUT,
        "every post of the real clients is acknowledged or refused",
        () -> clients.stream().allMatch(RealClient::allAnswered));
    long quarter = (fuzzEnd - fuzzStart) / 4;
    for (RealClient c : clients) {
      assertTrue(c.troubles.isEmpty(), c.user + " had no trouble: " + c.troubles);
      List<String> unexpected =
          c.refused.values().stream().filter(e -> !e.startsWith("rate limit")).toList();
      assertTrue(
          unexpected.isEmpty(),
          c.user + "'s posts refused other than by the rate limit: " + unexpected);
      for (int q = 0; q < 4; q++) {
        long from = fuzzStart + q * quarter;
        long to = from + quarter;
        assertTrue(
            c.ackTimes.stream().anyMatch(t -> t >= from && t < to),
            c.user + " had acknowledgements in quarter " + (q + 1) + " of the fuzz");
        assertTrue(
            c.deliveryTimes.stream().anyMatch(t -> t >= from && t < to),
            c.user + " got others' messages in quarter " + (q + 1) + " of the fuzz");
      }
    }
  }

  private static void everyAcknowledgedPostIsStoredOnce(String url, List<RealClient> clients)
      throws Exception {
    Map<String, List<String>> rows = storedMessages(url);
    Map<String, List<String>> byText = new HashMap<>();
    List<String> twice = new ArrayList<>();
    rows.forEach(
        (roomSeq, bodies) -> {
          if (bodies.size() > 1) {
            twice.add(roomSeq);
          }
          bodies.forEach(body -> byText.computeIfAbsent(body, t -> new ArrayList<>()).add(roomSeq));
        });
    assertTrue(twice.isEmpty(), "no room and seq stored twice: " + twice);
    int acknowledged = 0;
    for (RealClient client : clients) {
      for (Map.Entry<String, Sent> post : client.sent.entrySet()) {
        Long seq = client.acked().get(post.getKey());
        List<String> stored = byText.getOrDefault(post.getValue().text(), List.of());
        if (seq != null) {
          acknowledged++;
          assertEquals(
              List.of(post.getValue().room() + "#" + seq),
              stored,
              "acknowledged post " + post.getKey() + " is stored once under its seq");
        } else {
          assertTrue(
              stored.isEmpty(), "refused post " + post.getKey() + " is not stored: " + stored);
        }
      }
    }
    System.out.printf(
        "ChatFuzzIT: %d acknowledged posts of the real clients, each stored once; %d rows in all%n",
        acknowledged, rows.size());
  }

  /** Every logged message, archived or not: room#seq -> its bodies (one, unless stored twice). */
  private static Map<String, List<String>> storedMessages(String url) throws Exception {
    Map<String, List<String>> rows = new HashMap<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT room, seq, body FROM chat_message UNION ALL"
                    + " SELECT room, seq, body FROM chat_archive")) {
      while (rs.next()) {
        rows.computeIfAbsent(rs.getString(1) + "#" + rs.getLong(2), k -> new ArrayList<>())
            .add(rs.getString(3));
      }
    }
    return rows;
  }

  private static void onlyTheRealClientsGatewaysAreLeft(
      List<FuzzActions.Target> targets, List<RealClient> clients) {
    Eventually.awaitAssert(
        TIMEOUT,
        "the fuzzer's gateways are gone and the real clients' are left",
        () -> {
          for (FuzzActions.Target target : targets) {
            long real = clients.stream().filter(c -> c.node == target.index()).count();
            assertEquals(real, connections(target), target.name() + "'s chat_connections");
            assertEquals(
                clients.size(), gatewayGroup(target), target.name() + "'s chat-gateways group");
          }
        });
  }

  /**
   * Every room the run used, real and the fuzzer's, still takes a newcomer on every node: each join
   * is answered with the room's history (a room whose history cannot reach another node's gateway,
   * say, leaves its newcomers there waiting); and what the history shows is what the log holds,
   * message for message (a room that kept a post it failed to log shows one it has not).
   */
  private static void newcomersGetEveryRoomsHistory(List<FuzzActions.Target> targets, String url)
      throws Exception {
    List<String> rooms = new ArrayList<>(ROOMS);
    rooms.addAll(FuzzActions.fuzzRooms());
    List<String> missing = new ArrayList<>();
    Map<String, String> shown = new HashMap<>();
    for (FuzzActions.Target target : targets) {
      for (int from = 0; from < rooms.size(); from += 15) {
        List<String> some = rooms.subList(from, Math.min(rooms.size(), from + 15));
        try (WsClient newcomer = WsClient.connect(target.httpPort())) {
          some.forEach(room -> newcomer.join(room, "newcomer"));
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
          for (String room : some) {
            Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
            Optional<JsonNode> history =
                newcomer.tryAwait(
                    f ->
                        f.path("type").asText().equals("history")
                            && f.path("room").asText().equals(room),
                    left);
            if (history.isEmpty()) {
              missing.add(room + " on " + target.name());
            }
            history.ifPresent(
                h ->
                    h.path("messages")
                        .forEach(
                            m ->
                                shown.put(
                                    room + "#" + m.path("seq").asLong(), m.path("text").asText())));
          }
        }
      }
    }
    Map<String, List<String>> stored = storedMessages(url);
    List<String> unlogged =
        shown.entrySet().stream()
            .filter(e -> !stored.getOrDefault(e.getKey(), List.of()).equals(List.of(e.getValue())))
            .map(e -> e.getKey() + " " + FuzzActions.printable(e.getValue()))
            .sorted()
            .toList();
    assertAll(
        () ->
            assertTrue(
                missing.isEmpty(),
                "a newcomer on any node gets the history of every room the run used; none came"
                    + " for "
                    + missing),
        () ->
            assertTrue(
                unlogged.isEmpty(),
                "every message in a room's history is logged, once, with its text (of "
                    + shown.size()
                    + " shown); not: "
                    + unlogged));
  }

  private static void gatewaysGoWithTheirClients(
      List<FuzzActions.Target> targets, List<RealClient> clients) throws InterruptedException {
    clients.forEach(c -> c.running = false);
    for (RealClient c : clients) {
      c.join(TIMEOUT.toMillis());
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "no gateway is left once the real clients are gone",
        () -> {
          for (FuzzActions.Target target : targets) {
            assertEquals(0, connections(target), target.name() + "'s chat_connections");
            assertEquals(0, gatewayGroup(target), target.name() + "'s chat-gateways group");
          }
        });
  }

  private static void resourcesAreFlat(
      ProcessCluster cluster, Map<Integer, Usage> baseline, Map<Integer, Usage> after) {
    for (NodeProcess node : cluster.nodes()) {
      Usage before = baseline.get(node.index());
      Usage now = after.get(node.index());
      assertTrue(
          now.heapBytes() - before.heapBytes() <= HEAP_MARGIN_MIB << 20,
          node.name()
              + "'s heap after a full GC stays within "
              + HEAP_MARGIN_MIB
              + " MiB of its"
              + " baseline: "
              + before
              + " -> "
              + now);
      assertTrue(
          now.threads() - before.threads() <= THREAD_MARGIN,
          node.name() + "'s threads stay near their baseline: " + before + " -> " + now);
      if (before.fds() >= 0) {
        Eventually.awaitAssert(
            TIMEOUT,
            node.name() + "'s open file descriptors back near " + before.fds(),
            () -> assertTrue(fds(node) - before.fds() <= FD_MARGIN, "open: " + fds(node)));
      }
    }
  }

  /** The node's open chat connections: {@code chat_connections} on its {@code /metrics}. */
  private static long connections(FuzzActions.Target target) {
    Matcher m = CONNECTIONS.matcher(get(target.httpPort(), "/metrics").body());
    assertTrue(m.find(), "chat_connections on " + target.name() + "'s /metrics");
    return (long) Double.parseDouble(m.group(1));
  }

  /** The members of the {@code chat-gateways} group in the node's view, all nodes together. */
  private static long gatewayGroup(FuzzActions.Target target) {
    JsonNode group =
        ChatHttp.dashboard(target.httpPort()).path("groups").path(Gateway.GROUP.name());
    long n = 0;
    for (JsonNode count : group) {
      n += count.asLong();
    }
    return n;
  }

  private static void printClients(List<RealClient> clients) {
    long sent = 0;
    long acked = 0;
    long refused = 0;
    long delivered = 0;
    for (RealClient c : clients) {
      sent += c.sent.size();
      acked += c.acked().size();
      refused += c.refused.size();
      delivered += c.deliveryTimes.size();
    }
    System.out.printf(
        "ChatFuzzIT: %d real clients: %d posts, %d acknowledged, %d refused (rate limit), %d"
            + " messages of others received%n",
        clients.size(), sent, acked, refused, delivered);
  }

  private static Set<String> upMembers(int port) {
    try {
      return ChatHttp.upMembers(port);
    } catch (IOException e) {
      throw new AssertionError("GET /cluster/members on " + port + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static HttpResponse<String> get(int port, String path) {
    try {
      return ChatHttp.get(port, path);
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " on " + port + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
