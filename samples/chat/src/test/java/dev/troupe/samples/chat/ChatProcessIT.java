package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The chat under a real crash: three node JVMs on PostgreSQL; clients on every node post to one
 * room while the node hosting the room is SIGKILLed. Every post the server acknowledged must be
 * stored afterwards, and the client of the killed node reconnects to another node and goes on.
 */
final class ChatProcessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final String ROOM = "crash-room";

  /** A client that posts every 100 ms and, when its node dies, reconnects to the next one. */
  private static final class Poster extends Thread {
    final String name;
    final List<Integer> ports;
    final AtomicBoolean running = new AtomicBoolean(true);
    final Map<String, Long> acked = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, String> texts = new java.util.concurrent.ConcurrentHashMap<>();
    volatile int reconnects;
    volatile int portIndex;

    Poster(String name, List<Integer> ports, int first) {
      super("poster-" + name);
      this.name = name;
      this.ports = ports;
      this.portIndex = first;
    }

    @Override
    public void run() {
      int n = 0;
      while (running.get()) {
        try (WsClient client = WsClient.connect(ports.get(portIndex))) {
          client.join(ROOM, name);
          client.awaitType("history", "history");
          while (running.get() && !client.isClosed()) {
            String id = name + "-" + n++;
            String text = "message " + id;
            texts.put(id, text);
            client.post(ROOM, id, text);
            acked.putAll(client.acks());
            Thread.sleep(100); // the posting pace of this client, not a synchronisation
          }
          acked.putAll(client.acks());
        } catch (InterruptedException e) {
          return;
        } catch (Exception | AssertionError e) {
          // the node went away while connecting or posting: try the next one
        }
        if (running.get()) {
          reconnects++;
          portIndex = (portIndex + 1) % ports.size();
        }
      }
    }
  }

  @Test
  void acknowledgedPostsSurviveTheSigkillOfTheRoomsNodeAndClientsCarryOn() throws Exception {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster =
            ProcessCluster.builder()
                .size(3)
                .config(
                    "troupe.storage.url = \""
                        + db.url()
                        + "\"\nchat.http.port = 0\npekko.management.http.port = 0\n"
                        + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
                        + " lease-duration = 4s }")
                .mainClass(ChatChildNode.class)
                .start()) {
      List<Integer> ports = new ArrayList<>();
      for (NodeProcess node : cluster.nodes()) {
        node.send("chat");
        String line = node.awaitLine(l -> l.startsWith("TROUPE-CHAT http "), TIMEOUT);
        ports.add(Integer.parseInt(line.substring("TROUPE-CHAT http ".length()).trim()));
      }

      List<Poster> posters = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Poster p = new Poster("p" + i, ports, i);
        posters.add(p);
        p.start();
      }
      // Where does the room run? The room-stats daemon knows.
      String[] host = new String[1];
      Eventually.awaitCondition(
          TIMEOUT,
          "the room is running and every client has acknowledged posts",
          () -> {
            for (JsonNode r : ChatHttp.dashboard(ports.get(0)).path("rooms")) {
              if (r.path("room").asText().equals(ROOM)) {
                host[0] = r.path("node").asText();
              }
            }
            return host[0] != null && posters.stream().allMatch(p -> p.acked.size() >= 5);
          });
      int victimIndex = -1;
      for (NodeProcess node : cluster.nodes()) {
        if (host[0].equals(node.address())) {
          victimIndex = node.index();
        }
      }
      assertTrue(victimIndex >= 0, "the room's node " + host[0] + " is one of ours");
      NodeProcess victim = cluster.node(victimIndex);
      Poster local = posters.get(victimIndex);
      Map<String, Integer> ackedAtKill = new HashMap<>();
      posters.forEach(p -> ackedAtKill.put(p.name, p.acked.size()));
      victim.kill();

      // Every client gets acknowledgements again, the one of the dead node through another node.
      Eventually.awaitCondition(
          TIMEOUT,
          "every client posts again after the crash",
          () -> posters.stream().allMatch(p -> p.acked.size() >= ackedAtKill.get(p.name) + 10));
      assertTrue(local.reconnects >= 1, "the killed node's client reconnected elsewhere");
      posters.forEach(p -> p.running.set(false));
      for (Poster p : posters) {
        p.join(TIMEOUT.toMillis());
      }

      // Every acknowledged post is stored, once, with its text and its seq.
      Map<Long, String> stored = new HashMap<>();
      try (Connection c = db.storage().dataSource().getConnection();
          PreparedStatement s =
              c.prepareStatement("SELECT seq, body FROM chat_message WHERE room = ?")) {
        s.setString(1, ROOM);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            stored.put(rs.getLong(1), rs.getString(2));
          }
        }
      }
      int acknowledged = 0;
      for (Poster p : posters) {
        for (Map.Entry<String, Long> ack : p.acked.entrySet()) {
          acknowledged++;
          assertEquals(
              p.texts.get(ack.getKey()),
              stored.get(ack.getValue()),
              "acknowledged post " + ack.getKey() + " (seq " + ack.getValue() + ")");
        }
      }
      System.out.printf(
          "chat under a crash: %d acknowledged posts, all stored; %d stored in all%n",
          acknowledged, stored.size());
    }
  }
}
