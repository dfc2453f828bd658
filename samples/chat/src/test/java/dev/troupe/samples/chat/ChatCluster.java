package dev.troupe.samples.chat;

import dev.troupe.core.TroupeNode;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.util.ArrayList;
import java.util.List;

/** Test fixture: a 3-node in-JVM cluster sharing an H2 database, the chat started on each node. */
final class ChatCluster implements AutoCloseable {
  /** Test settings: any free HTTP port, fast archiving and idle closing, a small frame cap. */
  static final String CONFIG =
      "chat { http.port = 0, idle-room-timeout = 2s, archive-after = 1ms, archive-interval = 1s,"
          + " rate-limit-per-second = 5, max-frame-bytes = 2048 }\n"
          // Pekko Management on any free port (three nodes share this JVM)
          + "pekko.management.http.port = 0\n"
          // the sample's application.conf exits the JVM when a node stops: not in a test JVM
          + "pekko.coordinated-shutdown.exit-jvm = off\n"
          + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s, lease-duration = 4s }\n"
          // close-idle-rooms only when a test triggers it, not at every minute
          + "troupe.cron.jobs = [ { name = close-idle-rooms, spec = \"0 0 1 1 *\","
          + " target-group = chat-room-sweepers } ]";

  final TestCluster cluster;
  final List<ChatNode> chats = new ArrayList<>();

  ChatCluster(int size) {
    this(size, "");
  }

  /** With {@code extraConfig} (HOCON) above the test settings. */
  ChatCluster(int size, String extraConfig) {
    cluster =
        TestCluster.start(
            size,
            extraConfig
                + "\ntroupe.storage.url = \""
                + TestDatabases.freshH2Url()
                + "\"\n"
                + CONFIG);
    for (TroupeNode node : cluster.liveNodes()) {
      chats.add(ChatNode.start(node, ChatSettings.fromConfig(node.system().settings().config())));
    }
  }

  int port(int i) {
    return chats.get(i).httpPort();
  }

  TroupeNode node(int i) {
    return cluster.node(i);
  }

  @Override
  public void close() {
    chats.forEach(ChatNode::close);
    cluster.close();
  }
}
