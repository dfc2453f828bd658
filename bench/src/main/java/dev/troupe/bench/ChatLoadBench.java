package dev.troupe.bench;

import java.io.File;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load on the chat sample: three chat node JVMs ({@code samples/chat/target/troupe-chat.jar}) on a
 * shared database, N WebSocket clients spread over the nodes, each in one of M rooms, each posting
 * at a fixed rate. Every message carries its send time; every participant that receives it records
 * the delivery latency (one JVM, one clock). Two runs: steady, and with the third node SIGKILLed
 * half-way (its clients reconnect to the others); after the second, every acknowledged post is
 * looked up in the database: lost acknowledged posts must be 0.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.troupe.bench.ChatLoadBench [--clients 30]
 *       [--rooms 10] [--rate 5] [--seconds 30] [--jar samples/chat/target/troupe-chat.jar]
 *       [--output bench/results/chat.json]
 * </pre>
 */
public final class ChatLoadBench {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern TEXT = Pattern.compile("\"text\":\"(\\w+)\\|(\\d+)\\|(\\d+)\"");
  private static final Pattern ACK = Pattern.compile("\"id\":\"([^\"]+)\",\"seq\":(\\d+)");
  private static final Pattern ROOM = Pattern.compile("\"room\":\"([^\"]+)\"");

  private ChatLoadBench() {}

  /** One run's figures. */
  private record Run(
      String name,
      long[] latencyMicros,
      long posted,
      long acked,
      long delivered,
      double seconds,
      long lost) {}

  public static void main(String[] args) throws Exception {
    int clients = 30;
    int rooms = 10;
    int rate = 5;
    int seconds = 30;
    int warmup = 10;
    Path jar = Path.of("samples/chat/target/troupe-chat.jar");
    Path output = Path.of("bench/results/chat.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--clients" -> clients = Figures.intOption(args, ++i, "--clients", 2);
        case "--rooms" -> rooms = Figures.intOption(args, ++i, "--rooms", 1);
        case "--rate" -> rate = Figures.intOption(args, ++i, "--rate", 1);
        case "--seconds" -> seconds = Figures.intOption(args, ++i, "--seconds", 5);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--jar" -> jar = Path.of(Figures.value(args, ++i, "--jar"));
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "no chat jar at ["
              + jar
              + "]: build it with mvn -B -DskipTests -pl samples/chat -am package");
    }
    List<Run> runs = new ArrayList<>();
    for (boolean kill : new boolean[] {false, true}) {
      String storage = storage();
      System.out.println(
          "==> "
              + (kill ? "with a node killed half-way" : "steady")
              + ", storage "
              + storage.replaceAll("\\?.*", ""));
      try (Nodes nodes = Nodes.start(jar, storage)) {
        runs.add(run(nodes, storage, clients, rooms, rate, warmup, seconds, kill));
      }
      dropDatabase(storage);
    }
    List<List<Object>> rows = new ArrayList<>();
    for (Run r : runs) {
      long p50 = Figures.percentile(r.latencyMicros(), 50);
      long p99 = Figures.percentile(r.latencyMicros(), 99);
      System.out.printf(
          "    %s: posted %d, acked %d, delivered %d, p50 %d us, p99 %d us, lost acked %d%n",
          r.name(), r.posted(), r.acked(), r.delivered(), p50, p99, r.lost());
      rows.add(
          List.of(
              r.name(),
              Figures.count(r.posted()),
              Figures.count(r.acked()),
              Figures.count(Math.round(r.acked() / r.seconds())),
              Figures.count(Math.round(r.delivered() / r.seconds())),
              Figures.ms(p50 * 1000),
              Figures.ms(p99 * 1000),
              r.lost() < 0 ? "—" : Figures.count(r.lost()),
              r.lost() < 0 ? "—" : r.lost() == 0 ? "met" : "**not met**"));
    }
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("clients", clients);
    parameters.put("rooms", rooms);
    parameters.put("ratePerClient", rate);
    parameters.put("seconds", seconds);
    parameters.put("warmup", warmup);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    Map<String, Object> data = new LinkedHashMap<>();
    runs.forEach(r -> data.put("latencyMicros " + r.name(), r.latencyMicros()));
    Figures.write(
        output,
        ChatLoadBench.class,
        parameters,
        List.of(
            Figures.table(
                "Chat load: " + clients + " clients, " + rooms + " rooms, 3 nodes",
                "Three chat node JVMs on 127.0.0.1 (the sample's jar, default settings, a shared"
                    + " database), "
                    + clients
                    + " WebSocket clients in the bench JVM spread over the nodes, client i in room"
                    + " i mod "
                    + rooms
                    + ", each posting "
                    + rate
                    + " messages a second for "
                    + seconds
                    + " s after "
                    + warmup
                    + " s of warm-up. Latency: from the post leaving the client to each participant receiving"
                    + " it (every participant of the room, on any node; one clock). Acked/s: posts"
                    + " the room stored and acknowledged; delivered/s: messages written to"
                    + " participants. Killed: the third node is SIGKILLed half-way; its clients"
                    + " reconnect to the others and join again; afterwards every acknowledged post"
                    + " is looked up in the database. Goal: no acknowledged post lost.",
                List.of(
                    "Run",
                    "Posted",
                    "Acked",
                    "Acked/s",
                    "Delivered/s",
                    "p50 ms",
                    "p99 ms",
                    "Lost acked",
                    "Goal"),
                rows)),
        data);
    System.out.println("Chat figures written to " + output);
    System.exit(0);
  }

  private static Run run(
      Nodes nodes,
      String storage,
      int clients,
      int rooms,
      int rate,
      int warmup,
      int seconds,
      boolean kill)
      throws Exception {
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicLong delivered = new AtomicLong();
    List<Client> all = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Client c =
          new Client(
              "c" + i, "room" + (i % rooms), nodes.httpPorts, i % 3, rate, latencies, delivered);
      all.add(c);
    }
    all.forEach(Thread::start);
    long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
    while (System.nanoTime() < warm) {
      Thread.sleep(100); // warm-up: the clients post, nothing is counted yet
    }
    all.forEach(c -> c.reset());
    latencies.clear();
    delivered.set(0);
    long started = System.nanoTime();
    long end = started + TimeUnit.SECONDS.toNanos(seconds);
    boolean killed = false;
    while (System.nanoTime() < end) {
      if (kill && !killed && System.nanoTime() > started + (end - started) / 2) {
        nodes.kill(2);
        killed = true;
        System.out.println("    node 3 SIGKILLed");
      }
      Thread.sleep(100); // the run lasts a fixed time; nothing to wait for but the clock
    }
    all.forEach(c -> c.running.set(false));
    for (Client c : all) {
      c.join(TIMEOUT.toMillis());
    }
    double took = (System.nanoTime() - started) / 1e9;
    long posted = all.stream().mapToLong(c -> c.posted.get()).sum();
    long acked = all.stream().mapToLong(c -> c.acked.size()).sum();
    long lost = kill ? lost(storage, all) : -1;
    long[] micros = latencies.stream().mapToLong(Long::longValue).toArray();
    return new Run(
        kill ? "node 3 killed half-way" : "steady",
        micros,
        posted,
        acked,
        delivered.get(),
        took,
        lost);
  }

  /** Acknowledged posts whose text is not stored under their room and seq. */
  private static long lost(String storage, List<Client> clients) throws Exception {
    Map<String, String> stored = new HashMap<>();
    try (Connection c = DriverManager.getConnection(storage);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT room, seq, body FROM chat_message")) {
      while (rs.next()) {
        stored.put(rs.getString(1) + "#" + rs.getLong(2), rs.getString(3));
      }
    }
    long lost = 0;
    for (Client client : clients) {
      for (Map.Entry<String, Long> ack : client.acked.entrySet()) {
        String text = client.texts.get(ack.getKey());
        if (!text.equals(stored.get(client.room + "#" + ack.getValue()))) {
          lost++;
        }
      }
    }
    return lost;
  }

  /** A chat client: joins its room, posts at its rate, reconnects to the next node if its dies. */
  private static final class Client extends Thread {
    final String name;
    final String room;
    final List<Integer> ports;
    final int rate;
    final ConcurrentLinkedQueue<Long> latencies;
    final AtomicLong delivered;
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong posted = new AtomicLong();
    final Map<String, Long> acked = new ConcurrentHashMap<>();
    final Map<String, String> texts = new ConcurrentHashMap<>();
    int node;
    volatile long countFrom = Long.MAX_VALUE;

    Client(
        String name,
        String room,
        List<Integer> ports,
        int node,
        int rate,
        ConcurrentLinkedQueue<Long> latencies,
        AtomicLong delivered) {
      super("chat-client-" + name);
      this.name = name;
      this.room = room;
      this.ports = ports;
      this.node = node;
      this.rate = rate;
      this.latencies = latencies;
      this.delivered = delivered;
    }

    /** Counts from now: posts, acknowledgements and latencies of messages sent from now on. */
    void reset() {
      posted.set(0);
      acked.clear();
      countFrom = System.nanoTime();
    }

    @Override
    public void run() {
      long n = 0;
      long interval = TimeUnit.SECONDS.toNanos(1) / rate;
      while (running.get()) {
        AtomicBoolean closed = new AtomicBoolean();
        try {
          WebSocket ws =
              HttpClient.newHttpClient()
                  .newWebSocketBuilder()
                  .buildAsync(
                      URI.create("ws://127.0.0.1:" + ports.get(node) + "/ws"), listener(closed))
                  .get(10, TimeUnit.SECONDS);
          ws.sendText(
                  "{\"type\":\"join\",\"room\":\"" + room + "\",\"user\":\"" + name + "\"}", true)
              .join();
          long next = System.nanoTime();
          while (running.get() && !closed.get()) {
            String id = name + "-" + n++;
            String text = name + "|" + n + "|" + System.nanoTime();
            texts.put(id, text);
            ws.sendText(
                    "{\"type\":\"post\",\"room\":\""
                        + room
                        + "\",\"id\":\""
                        + id
                        + "\",\"text\":\""
                        + text
                        + "\"}",
                    true)
                .join();
            posted.incrementAndGet();
            next += interval;
            long wait = next - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait); // the client's posting pace
            }
          }
          ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          // its node is gone: the next one
        }
        if (running.get()) {
          node = (node + 1) % ports.size();
          if (node == 2 && ports.get(2) < 0) {
            node = 0;
          }
        }
      }
    }

    private WebSocket.Listener listener(AtomicBoolean closed) {
      return new WebSocket.Listener() {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
          partial.append(data);
          if (last) {
            String frame = partial.toString();
            partial.setLength(0);
            long now = System.nanoTime();
            if (frame.contains("\"type\":\"ack\"")) {
              Matcher m = ACK.matcher(frame);
              if (m.find() && countFrom != Long.MAX_VALUE) {
                acked.put(m.group(1), Long.parseLong(m.group(2)));
              }
            } else if (frame.contains("\"type\":\"message\"")) {
              Matcher m = TEXT.matcher(frame);
              Matcher r = ROOM.matcher(frame);
              if (m.find()
                  && r.find()
                  && r.group(1).equals(room)
                  && Long.parseLong(m.group(3)) >= countFrom) {
                latencies.add((now - Long.parseLong(m.group(3))) / 1000);
                delivered.incrementAndGet();
              }
            }
          }
          ws.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
          closed.set(true);
          return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
          closed.set(true);
        }
      };
    }
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

  /** Three chat node processes. */
  private static final class Nodes implements AutoCloseable {
    final List<Process> processes = new ArrayList<>();
    final List<Integer> httpPorts = new ArrayList<>();

    static Nodes start(Path jar, String storage) throws Exception {
      Nodes nodes = new Nodes();
      int seedPort = freePort();
      String seed = "pekko://troupe@127.0.0.1:" + seedPort;
      Path logs = Files.createDirectories(Path.of("target", "chat-bench"));
      for (int i = 0; i < 3; i++) {
        int http = freePort();
        int management = freePort();
        ProcessBuilder pb =
            new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                // every simulated client connects from 127.0.0.1
                "-Dchat.limits.connections-per-address=0",
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
                storage);
        File log = logs.resolve("node-" + (i + 1) + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(log);
        nodes.processes.add(pb.start());
        nodes.httpPorts.add(http);
        awaitReady(management);
      }
      awaitMembers(nodes.httpPorts.get(0), 3);
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
