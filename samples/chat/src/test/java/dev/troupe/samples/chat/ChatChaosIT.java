package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.core.HashRing;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The chat as the load of the headline chaos cases (FAULTS.md M1, M7, M8): three node JVMs on
 * PostgreSQL, six clients (two on each node) posting all along to six rooms (two on each node),
 * each client reconnecting to another node when its own goes away.
 *
 * <ul>
 *   <li>{@link #theOldestIsKilledUnderChatLoad}: SIGKILL of the oldest node, which holds the
 *       singletons (daemons leader, cron scheduler, the chat's archiver lock) and two rooms.
 *   <li>{@link #threeRollingRestartsUnderChatLoad}: three rounds of SIGTERM of each node in turn,
 *       each followed by a replacement node.
 * </ul>
 *
 * <p>Witnesses: the clients' acknowledgements ({@code ack} with {@code seq}) against the {@code
 * chat_message} table; the lines {@link ChatChildNode} prints when a daemon instance starts or
 * stops, when a singleton takes over, and when the {@code close-idle-rooms} job (every 2 s here,
 * pointed at the child's witness group, which passes the tick on to the room sweeper) delivers a
 * tick; the cron claims in {@code troupe_cron_run}. All nodes run on one machine, so their wall
 * clocks are one clock.
 */
final class ChatChaosIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final long PACE_MILLIS = 150;
  private static final int CLIENTS = 6;
  private static final String DAEMON = RoomStats.NAME;
  private static final String JOB = RoomSweeper.JOB;

  // ---- the load: clients that post and remember what was acknowledged ----

  /** A post as a client sent it. */
  private record Sent(String client, String room, String text, long sentNanos) {}

  /** An acknowledgement as a client received it. */
  private record Ack(String id, long seq, long receivedNanos) {}

  /** What all clients share: the ports to connect to, what they sent, what was acknowledged. */
  private static final class Load {
    final List<Integer> ports = new CopyOnWriteArrayList<>();
    final Map<String, Sent> sent = new ConcurrentHashMap<>();
    final Queue<Ack> acks = new ConcurrentLinkedQueue<>();
    final List<Poster> posters = new ArrayList<>();

    /** How many posts to {@code room} sent after {@code sinceNanos} are acknowledged. */
    long ackedSentAfter(String room, long sinceNanos) {
      return acks.stream()
          .map(a -> sent.get(a.id()))
          .filter(s -> s.room().equals(room) && s.sentNanos() > sinceNanos)
          .count();
    }

    /**
     * When every room in {@code rooms} had its first acknowledgement of a post sent after {@code
     * sinceNanos}, in nanoseconds after it; -1 if some room has none.
     */
    long resumedAfter(List<String> rooms, long sinceNanos) {
      long latest = 0;
      for (String room : rooms) {
        long first = Long.MAX_VALUE;
        for (Ack a : acks) {
          Sent s = sent.get(a.id());
          if (s.room().equals(room) && s.sentNanos() > sinceNanos) {
            first = Math.min(first, a.receivedNanos());
          }
        }
        if (first == Long.MAX_VALUE) {
          return -1;
        }
        latest = Math.max(latest, first - sinceNanos);
      }
      return latest;
    }

    /**
     * The longest time between two acknowledgements in {@code room} received after {@code since}.
     */
    long longestGap(String room, long sinceNanos) {
      List<Long> times =
          acks.stream()
              .filter(a -> sent.get(a.id()).room().equals(room) && a.receivedNanos() > sinceNanos)
              .map(Ack::receivedNanos)
              .sorted()
              .toList();
      long gap = 0;
      for (int i = 1; i < times.size(); i++) {
        gap = Math.max(gap, times.get(i) - times.get(i - 1));
      }
      return gap;
    }

    /** The longest gap of any room in {@code rooms}. */
    long longestGap(List<String> rooms, long sinceNanos) {
      return rooms.stream().mapToLong(r -> longestGap(r, sinceNanos)).max().orElse(0);
    }

    void stop() throws InterruptedException {
      posters.forEach(p -> p.running.set(false));
      for (Poster p : posters) {
        p.join(TIMEOUT.toMillis());
        assertTrue(!p.isAlive(), p.getName() + " stopped");
      }
    }
  }

  /**
   * A client that joins two rooms and posts to them in turn, every {@value #PACE_MILLIS} ms; when
   * its node goes away it connects to another live one and joins again. It never posts a message
   * twice: each post has its own id and text.
   */
  private static final class Poster extends Thread {
    final String name;
    final List<String> rooms;
    final Load load;
    final AtomicBoolean running = new AtomicBoolean(true);
    volatile int reconnects;
    private int portIndex;

    Poster(String name, List<String> rooms, Load load, int firstPort) {
      super("poster-" + name);
      this.name = name;
      this.rooms = rooms;
      this.load = load;
      this.portIndex = firstPort;
    }

    @Override
    public void run() {
      int n = 0;
      while (running.get()) {
        List<Integer> live = List.copyOf(load.ports);
        int port = live.get(Math.floorMod(portIndex, live.size()));
        Set<String> harvested = new HashSet<>();
        try (WsClient client = WsClient.connect(port)) {
          for (String room : rooms) {
            client.join(room, name);
          }
          for (String room : rooms) {
            client.await(
                f ->
                    f.path("type").asText().equals("history")
                        && f.path("room").asText().equals(room),
                "history of " + room);
          }
          while (running.get() && !client.isClosed()) {
            String room = rooms.get(n % rooms.size());
            String id = name + "-" + n++;
            String text = "message " + id;
            load.sent.put(id, new Sent(name, room, text, System.nanoTime()));
            client.post(room, id, text);
            harvest(client, harvested);
            Thread.sleep(PACE_MILLIS); // the posting pace of this client, not a synchronisation
          }
          harvest(client, harvested);
        } catch (InterruptedException e) {
          return;
        } catch (Exception | AssertionError e) {
          // the node went away while connecting or posting: try the next one
        }
        if (running.get()) {
          reconnects++;
          portIndex++;
        }
      }
    }

    private void harvest(WsClient client, Set<String> harvested) {
      long now = System.nanoTime();
      client
          .acks()
          .forEach(
              (id, seq) -> {
                if (harvested.add(id)) {
                  load.acks.add(new Ack(id, seq, now));
                }
              });
    }
  }

  // ---- the cluster ----

  private static ProcessCluster startCluster(TestDatabases.TestDatabase db) {
    return ProcessCluster.builder()
        .size(3)
        .config(
            "troupe.storage.url = \""
                + db.url()
                + "\"\nchat.http.port = 0\npekko.management.http.port = 0\n"
                + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
                + " lease-duration = 4s }\n"
                // close-idle-rooms every 2 s (seconds first), through the children's witness
                + "troupe.cron.jobs = [ { name = \""
                + JOB
                + "\", spec = \"*/2 * * * * *\", target-group = \""
                + ChatChildNode.CRON_WITNESSES.name()
                + "\", misfire = skip } ]")
        .mainClass(ChatChildNode.class)
        .start();
  }

  /** Starts the chat on {@code node} and returns its HTTP port. */
  private static int startChat(NodeProcess node) {
    node.send("chat");
    String line = node.awaitLine(l -> l.startsWith("TROUPE-CHAT http "), TIMEOUT);
    return Integer.parseInt(line.substring("TROUPE-CHAT http ".length()).trim());
  }

  /** Six room names, two on each node's share of the ring, where the rooms fleet places them. */
  private static List<String> roomsSpreadOver(List<NodeProcess> nodes) {
    HashRing ring = HashRing.of(nodes.stream().map(NodeProcess::address).toList());
    Map<String, Integer> perNode = new HashMap<>();
    List<String> rooms = new ArrayList<>();
    for (int i = 0; rooms.size() < 2 * nodes.size(); i++) {
      String room = "chaos-" + i;
      if (perNode.merge(ring.pick(room), 1, Integer::sum) <= 2) {
        rooms.add(room);
      }
    }
    return rooms;
  }

  /** Client {@code i} posts to rooms {@code i} and {@code i+1}: each room gets two clients. */
  private static void startPosters(Load load, List<String> rooms) {
    for (int i = 0; i < CLIENTS; i++) {
      Poster p =
          new Poster("c" + i, List.of(rooms.get(i), rooms.get((i + 1) % rooms.size())), load, i);
      load.posters.add(p);
      p.start();
    }
  }

  // ---- the witnesses ----

  /** A {@code TROUPE-WITNESS} line of {@code node}. */
  private record Witness(NodeProcess node, long at, String kind, List<String> fields) {
    long number(int i) {
      return Long.parseLong(fields.get(i));
    }
  }

  private static List<Witness> witnesses(ProcessCluster cluster, String kind) {
    List<Witness> all = new ArrayList<>();
    for (NodeProcess node : cluster.nodes()) {
      for (String line : node.lines()) {
        if (line.startsWith("TROUPE-WITNESS ")) {
          List<String> words = Arrays.asList(line.split(" "));
          if (words.get(2).equals(kind)) {
            all.add(
                new Witness(
                    node, Long.parseLong(words.get(1)), kind, words.subList(3, words.size())));
          }
        }
      }
    }
    all.sort((a, b) -> Long.compare(a.at(), b.at()));
    return all;
  }

  /** One instance of the daemon: where, its epoch, from its start to its stop (or node's end). */
  private record Instance(String node, long epoch, long from, long to) {}

  /**
   * The daemon's instances from the start and stop lines; an instance without a stop line lasted
   * until its node's process was seen gone ({@code ends}), or is still running.
   */
  private static List<Instance> daemonInstances(ProcessCluster cluster, Map<String, Long> ends) {
    Map<String, Long> stops = new HashMap<>();
    for (Witness w : witnesses(cluster, "daemon_stop")) {
      if (w.fields().get(0).equals(DAEMON)) {
        stops.merge(w.node().name() + "#" + w.number(1), w.at(), Math::min);
      }
    }
    List<Instance> instances = new ArrayList<>();
    for (Witness w : witnesses(cluster, "daemon_start")) {
      if (w.fields().get(0).equals(DAEMON)) {
        String node = w.node().name();
        long end =
            stops.getOrDefault(node + "#" + w.number(1), ends.getOrDefault(node, Long.MAX_VALUE));
        instances.add(new Instance(node, w.number(1), w.at(), end));
      }
    }
    return instances;
  }

  /** Pairs of daemon instances that ran at the same time, with the milliseconds they overlapped. */
  private static List<String> overlaps(List<Instance> instances) {
    List<String> overlaps = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      for (int j = i + 1; j < instances.size(); j++) {
        Instance a = instances.get(i);
        Instance b = instances.get(j);
        long overlap = Math.min(a.to(), b.to()) - Math.max(a.from(), b.from());
        if (overlap > 0) {
          overlaps.add(a + " and " + b + " overlap " + overlap + " ms");
        }
      }
    }
    return overlaps;
  }

  /** The cron job's deliveries: scheduled instant (millis) -> the witness lines of it. */
  private static Map<Long, List<Witness>> cronDeliveries(ProcessCluster cluster) {
    return witnesses(cluster, "cron_tick").stream()
        .filter(w -> w.fields().get(0).equals(JOB))
        .collect(Collectors.groupingBy(w -> w.number(1), TreeMap::new, Collectors.toList()));
  }

  private static long maxNumber(List<Witness> witnesses, int field) {
    return witnesses.stream().mapToLong(w -> w.number(field)).max().orElse(-1);
  }

  // ---- the checks against the database ----

  /** Figures of the stored chat, for the report. */
  private record StoredChat(int acknowledged, int stored) {}

  /**
   * Every acknowledged post is stored with its text under the acknowledged seq; no (room, seq) was
   * acknowledged to two posts; no post is stored twice.
   */
  private static StoredChat assertEveryAcknowledgedPostStoredOnce(
      TestDatabases.TestDatabase db, Load load) throws Exception {
    Map<String, Map<Long, String>> stored = new HashMap<>();
    Map<String, Integer> copies = new HashMap<>();
    int rows = 0;
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT room, seq, body FROM chat_message UNION ALL"
                    + " SELECT room, seq, body FROM chat_archive")) {
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          rows++;
          stored
              .computeIfAbsent(rs.getString(1), r -> new HashMap<>())
              .put(rs.getLong(2), rs.getString(3));
          copies.merge(rs.getString(3), 1, Integer::sum);
        }
      }
    }
    Map<String, String> ackedSeqs = new HashMap<>();
    for (Ack ack : load.acks) {
      Sent sent = load.sent.get(ack.id());
      assertNotNull(sent, "acknowledged post " + ack.id() + " was sent");
      String key = sent.room() + "#" + ack.seq();
      String earlier = ackedSeqs.putIfAbsent(key, ack.id());
      assertTrue(
          earlier == null || earlier.equals(ack.id()),
          key + " acknowledged to two posts: " + earlier + " and " + ack.id());
      assertEquals(
          sent.text(),
          stored.getOrDefault(sent.room(), Map.of()).get(ack.seq()),
          "acknowledged post " + ack.id() + " (" + key + ") is stored");
    }
    List<String> twice =
        copies.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    assertTrue(twice.isEmpty(), "posts stored more than once: " + twice);
    return new StoredChat(load.acks.size(), rows);
  }

  /** The cron job's claims: scheduled instant (millis) -> [token, outcome]. */
  private static Map<Long, String[]> cronClaims(TestDatabases.TestDatabase db) throws Exception {
    Map<Long, String[]> claims = new TreeMap<>();
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT scheduled_at, token, outcome FROM troupe_cron_run WHERE job = ?")) {
      s.setString(1, JOB);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          String[] previous =
              claims.put(rs.getLong(1), new String[] {rs.getString(2), rs.getString(3)});
          assertTrue(previous == null, "instant " + rs.getLong(1) + " claimed twice");
        }
      }
    }
    return claims;
  }

  /**
   * Each instant of the job was delivered at most once, in the whole cluster, and only under a
   * claim of the scheduler whose token the tick carries. Returns a line for the report.
   */
  private static String assertNoDuplicateCronFires(
      ProcessCluster cluster, TestDatabases.TestDatabase db) throws Exception {
    Map<Long, List<Witness>> deliveries = cronDeliveries(cluster);
    Map<Long, String[]> claims = cronClaims(db);
    List<String> twice = new ArrayList<>();
    for (Map.Entry<Long, List<Witness>> d : deliveries.entrySet()) {
      if (d.getValue().size() > 1) {
        twice.add(d.getKey() + " on " + d.getValue().stream().map(w -> w.node().name()).toList());
      }
      String[] claim = claims.get(d.getKey());
      assertNotNull(claim, "instant " + d.getKey() + " was delivered without a claim");
      assertEquals(
          claim[0],
          d.getValue().get(0).fields().get(2),
          "instant " + d.getKey() + " delivered with the token of its claim");
    }
    assertTrue(twice.isEmpty(), "instants of " + JOB + " delivered more than once: " + twice);
    // Never silently missed: from the first claim on, every 2-second instant has a row.
    List<Long> instants = new ArrayList<>(claims.keySet());
    List<String> holes = new ArrayList<>();
    for (int i = 1; i < instants.size(); i++) {
      if (instants.get(i) - instants.get(i - 1) != 2000) {
        holes.add(instants.get(i - 1) + ".." + instants.get(i));
      }
    }
    assertTrue(holes.isEmpty(), "instants of " + JOB + " neither fired nor recorded: " + holes);
    Map<String, Long> outcomes =
        claims.values().stream()
            .collect(Collectors.groupingBy(c -> c[1], TreeMap::new, Collectors.counting()));
    return deliveries.size() + " instants delivered once each; claims by outcome " + outcomes;
  }

  /**
   * The daemon's epochs were issued by the database (each at most its {@code troupe_lock_epoch}
   * row); returns a line for the report: the instances and the longest time without one.
   */
  private static String assertDaemonEpochsIssued(
      TestDatabases.TestDatabase db, List<Instance> instances) throws Exception {
    long issued;
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT MAX(epoch) FROM troupe_lock_epoch WHERE name LIKE ?")) {
      s.setString(1, "%daemon:" + DAEMON);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        issued = rs.getLong(1);
      }
    }
    long gap = 0;
    for (int i = 0; i < instances.size(); i++) {
      assertTrue(
          instances.get(i).epoch() <= issued,
          "epoch " + instances.get(i).epoch() + " ran, the database issued up to " + issued);
      if (i > 0) {
        gap = Math.max(gap, instances.get(i).from() - instances.get(i - 1).to());
      }
    }
    return instances.size()
        + " room-stats instances "
        + instances.stream().map(i -> i.node() + ":" + i.epoch()).toList()
        + ", 0 overlaps, longest gap "
        + gap
        + " ms, epoch in the database "
        + issued;
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  // ---- the scenarios ----

  @Test
  void theOldestIsKilledUnderChatLoad() throws Exception {
    long testStart = System.nanoTime();
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster = startCluster(db)) {
      Load load = new Load();
      for (NodeProcess node : cluster.nodes()) {
        load.ports.add(startChat(node));
      }
      NodeProcess oldest = cluster.node(0);
      Integer victimPort = load.ports.get(0);
      List<NodeProcess> survivors = List.of(cluster.node(1), cluster.node(2));
      List<String> rooms = roomsSpreadOver(cluster.nodes());
      startPosters(load, rooms);

      // Under load, with the singletons on the oldest node and rooms on every node.
      Eventually.awaitCondition(
          TIMEOUT,
          "posts acknowledged in every room, the singletons on the oldest node, cron firing",
          () ->
              rooms.stream().allMatch(r -> load.ackedSentAfter(r, testStart) >= 3)
                  && witnesses(cluster, "daemon_leader").stream().anyMatch(w -> w.node() == oldest)
                  && witnesses(cluster, "cron_scheduler").stream().anyMatch(w -> w.node() == oldest)
                  && witnesses(cluster, "archiver").stream().anyMatch(w -> w.node() == oldest)
                  && !daemonInstances(cluster, Map.of()).isEmpty()
                  && cronDeliveries(cluster).size() >= 2);
      // The fleet places a room on its ring owner once the shard coordinator knows every node's
      // region: rooms allocated before that move there at the next rebalance.
      HashRing ring = HashRing.of(cluster.nodes().stream().map(NodeProcess::address).toList());
      Map<String, String> roomNodes = new HashMap<>();
      long placing = System.nanoTime();
      Eventually.awaitCondition(
          TIMEOUT,
          "the room-stats daemon lists every room on its ring owner, and the dashboard names the"
              + " oldest node",
          () -> {
            JsonNode d = ChatHttp.dashboard(load.ports.get(1));
            d.path("rooms")
                .forEach(r -> roomNodes.put(r.path("room").asText(), r.path("node").asText()));
            return rooms.stream().allMatch(r -> ring.pick(r).equals(roomNodes.get(r)))
                && oldest.address().equals(d.path("oldest").asText());
          });
      long placed = System.nanoTime() - placing;
      long roomsOnVictim =
          rooms.stream().filter(r -> oldest.address().equals(roomNodes.get(r))).count();
      assertEquals(2, roomsOnVictim, "rooms on the oldest node: " + roomNodes);
      long schedulerToken = maxNumber(witnesses(cluster, "cron_scheduler"), 0);
      long archiverToken = maxNumber(witnesses(cluster, "archiver"), 0);
      long tickToken = maxNumber(witnesses(cluster, "cron_tick"), 2);
      int[] linesAtKill = survivors.stream().mapToInt(NodeProcess::lineCount).toArray();
      int ackedAtKill = load.acks.size();
      Map<String, Integer> reconnectsAtKill = new HashMap<>();
      load.posters.forEach(p -> reconnectsAtKill.put(p.name, p.reconnects));
      long warm = System.nanoTime() - 2_000_000_000L; // gaps measured from 2 s before the kill

      long killedAt = System.nanoTime();
      long killedAtMillis = System.currentTimeMillis();
      load.ports.remove(victimPort);
      oldest.kill();

      // The survivors remove it and stay Up, the two of them.
      for (int i = 0; i < survivors.size(); i++) {
        survivors
            .get(i)
            .awaitLineAfter(
                linesAtKill[i], l -> l.equals("TROUPE-EVENT REMOVED " + oldest.address()), TIMEOUT);
      }
      long removed = System.nanoTime() - killedAt;
      Set<String> twoUp = Set.of(survivors.get(0).address(), survivors.get(1).address());
      for (NodeProcess s : survivors) {
        s.awaitMembers(twoUp, TIMEOUT);
      }

      // Posting resumes in every room, the ones of the killed node included.
      Eventually.awaitCondition(
          TIMEOUT,
          "posts sent after the kill are acknowledged in every room",
          () -> rooms.stream().allMatch(r -> load.ackedSentAfter(r, killedAt) >= 5));
      long resumed = load.resumedAfter(rooms, killedAt);

      // The singletons moved: the cron scheduler and the archiver with larger tokens, the daemons
      // leader to a survivor, the room-stats daemon runs on a survivor and answers the dashboard.
      Eventually.awaitCondition(
          TIMEOUT,
          "the cron scheduler, the daemons leader and the archiver took over on a survivor,"
              + " and two ticks of the new scheduler were delivered",
          () ->
              witnesses(cluster, "cron_scheduler").stream()
                      .anyMatch(w -> w.node() != oldest && w.number(0) > schedulerToken)
                  && witnesses(cluster, "daemon_leader").stream()
                      .anyMatch(w -> w.node() != oldest && w.at() > killedAtMillis)
                  && witnesses(cluster, "archiver").stream()
                      .anyMatch(w -> w.node() != oldest && w.number(0) > archiverToken)
                  && witnesses(cluster, "cron_tick").stream()
                          .filter(w -> w.number(2) > tickToken)
                          .count()
                      >= 2);
      long singletonsMoved = System.nanoTime() - killedAt;
      Eventually.awaitCondition(
          TIMEOUT,
          "a survivor's dashboard lists room-stats on a survivor and every room",
          () -> {
            JsonNode d = ChatHttp.dashboard(load.ports.get(0));
            boolean daemonOnSurvivor = false;
            for (JsonNode daemon : d.path("daemons")) {
              daemonOnSurvivor |=
                  daemon.path("name").asText().equals(DAEMON)
                      && twoUp.contains(daemon.path("node").asText());
            }
            Set<String> listed = new HashSet<>();
            d.path("rooms").forEach(r -> listed.add(r.path("room").asText()));
            return daemonOnSurvivor && listed.containsAll(rooms);
          });
      Map<String, Long> ends = Map.of(oldest.name(), killedAtMillis);
      List<Instance> instances = daemonInstances(cluster, ends);
      assertEquals(
          1,
          instances.stream().filter(i -> i.to() == Long.MAX_VALUE).count(),
          "one live room-stats instance: " + instances);
      assertTrue(overlaps(instances).isEmpty(), "room-stats overlaps: " + overlaps(instances));
      String daemons = assertDaemonEpochsIssued(db, instances);
      long ticksAfterKill =
          cronDeliveries(cluster).keySet().stream().filter(t -> t > killedAtMillis).count();

      load.stop();
      assertTrue(
          load.posters.stream().filter(p -> p.reconnects > reconnectsAtKill.get(p.name)).count()
              >= 2,
          "the two clients of the killed node reconnected elsewhere");
      StoredChat chat = assertEveryAcknowledgedPostStoredOnce(db, load);
      String cron = assertNoDuplicateCronFires(cluster, db);
      assertEquals(2, cluster.aliveNodes().size(), "both survivors still run");

      System.out.printf(
          "ChatChaosIT kill-oldest: rooms on their ring owners %.1f s after warm-up; removed after"
              + " %.1f s; posts acknowledged again in all %d rooms"
              + " (%d on the killed node) %.1f s after the kill (longest gap of a room %.1f s);"
              + " singletons moved within %.1f s;"
              + " %d acknowledged posts (%d before the kill), all stored once, %d rows;"
              + " %s; %s, %d after the kill; test %.0f s%n",
          seconds(placed),
          seconds(removed),
          rooms.size(),
          roomsOnVictim,
          seconds(resumed),
          seconds(load.longestGap(rooms, warm)),
          seconds(singletonsMoved),
          chat.acknowledged(),
          ackedAtKill,
          chat.stored(),
          daemons,
          cron,
          ticksAfterKill,
          seconds(System.nanoTime() - testStart));
    }
  }

  @Test
  void threeRollingRestartsUnderChatLoad() throws Exception {
    long testStart = System.nanoTime();
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster = startCluster(db)) {
      Load load = new Load();
      Map<NodeProcess, Integer> ports = new HashMap<>();
      for (NodeProcess node : cluster.nodes()) {
        ports.put(node, startChat(node));
        load.ports.add(ports.get(node));
      }
      List<String> rooms = roomsSpreadOver(cluster.nodes());
      startPosters(load, rooms);
      Eventually.awaitCondition(
          TIMEOUT,
          "posts acknowledged in every room, room-stats running, cron firing",
          () ->
              rooms.stream().allMatch(r -> load.ackedSentAfter(r, testStart) >= 3)
                  && !daemonInstances(cluster, Map.of()).isEmpty()
                  && cronDeliveries(cluster).size() >= 2);

      long firstStep = System.nanoTime();
      Map<String, Long> ends = new HashMap<>();
      List<Integer> exitCodes = new ArrayList<>();
      long slowestExit = 0;
      long slowestJoin = 0;
      long slowestResume = 0;
      for (int round = 1; round <= 3; round++) {
        for (NodeProcess node : cluster.aliveNodes()) {
          long stepStart = System.nanoTime();
          load.ports.remove(ports.get(node));
          node.terminate();
          exitCodes.add(node.awaitExit(TIMEOUT));
          ends.put(node.name(), System.currentTimeMillis());
          long exited = System.nanoTime();
          slowestExit = Math.max(slowestExit, exited - stepStart);

          NodeProcess fresh = cluster.addNode();
          ports.put(fresh, startChat(fresh));
          load.ports.add(ports.get(fresh));
          slowestJoin = Math.max(slowestJoin, System.nanoTime() - exited);

          Eventually.awaitCondition(
              TIMEOUT,
              "round "
                  + round
                  + ", "
                  + node.name()
                  + " replaced by "
                  + fresh.name()
                  + ": posts sent since are acknowledged in every room",
              () -> rooms.stream().allMatch(r -> load.ackedSentAfter(r, stepStart) >= 1));
          slowestResume = Math.max(slowestResume, load.resumedAfter(rooms, stepStart));
        }
      }

      // After the last restart: cron still fires, one room-stats runs, the dashboard shows it.
      long lastStep = System.currentTimeMillis();
      Eventually.awaitCondition(
          TIMEOUT,
          "the job fires after the last restart",
          () -> cronDeliveries(cluster).keySet().stream().anyMatch(t -> t > lastStep));
      Set<String> live =
          cluster.aliveNodes().stream().map(NodeProcess::address).collect(Collectors.toSet());
      Eventually.awaitCondition(
          TIMEOUT,
          "the dashboard lists room-stats on a live node",
          () -> {
            boolean found = false;
            for (JsonNode d : ChatHttp.dashboard(load.ports.get(0)).path("daemons")) {
              found |=
                  d.path("name").asText().equals(DAEMON) && live.contains(d.path("node").asText());
            }
            return found;
          });
      load.stop();

      // The last join may still be moving room-stats to its new ring owner (a bounded rebalance
      // every rebalance-interval stops the old instance, then starts the new one): wait for the
      // move to end, and judge the instances as read at that moment.
      AtomicReference<List<Instance>> settled = new AtomicReference<>();
      Eventually.awaitAssert(
          TIMEOUT,
          "one live room-stats instance",
          () -> {
            List<Instance> now = daemonInstances(cluster, ends);
            settled.set(now);
            assertEquals(
                1, now.stream().filter(i -> i.to() == Long.MAX_VALUE).count(), "instances: " + now);
          });
      List<Instance> instances = settled.get();
      List<String> overlaps = overlaps(instances);
      assertTrue(overlaps.isEmpty(), "room-stats ran twice at once: " + overlaps);
      List<Instance> running = instances.stream().filter(i -> i.to() == Long.MAX_VALUE).toList();
      assertTrue(
          live.contains(
              cluster.aliveNodes().stream()
                  .filter(n -> n.name().equals(running.get(0).node()))
                  .findFirst()
                  .map(NodeProcess::address)
                  .orElse("")),
          "room-stats runs on a live node: " + instances);
      long previous = 0;
      for (Instance i : instances) {
        assertTrue(i.epoch() > previous, "epochs rise with each placement: " + instances);
        previous = i.epoch();
      }
      String daemons = assertDaemonEpochsIssued(db, instances);
      StoredChat chat = assertEveryAcknowledgedPostStoredOnce(db, load);
      String cron = assertNoDuplicateCronFires(cluster, db);
      assertEquals(3, cluster.aliveNodes().size(), "three nodes run after the restarts");

      System.out.printf(
          "ChatChaosIT rolling restarts: 9 SIGTERM + replacements (exit codes %s); slowest exit"
              + " %.1f s, slowest replacement (JVM start to chat serving) %.1f s, slowest resume"
              + " of all %d rooms %.1f s, longest gap of a room %.1f s; %d acknowledged posts,"
              + " all stored once, %d rows; %s; %s; test %.0f s%n",
          exitCodes,
          seconds(slowestExit),
          seconds(slowestJoin),
          rooms.size(),
          seconds(slowestResume),
          seconds(load.longestGap(rooms, firstStep)),
          chat.acknowledged(),
          chat.stored(),
          daemons,
          cron,
          seconds(System.nanoTime() - testStart));
    }
  }
}
