package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A fleet under a real crash: the node hosting a key is SIGKILLed while a client writes to it. */
final class WorkerFleetProcessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static String where(NodeProcess node, String key) {
    int from = node.lineCount();
    node.send("where " + key);
    String line =
        node.awaitLineAfter(from, l -> l.startsWith("TROUPE-WHERE " + key + " "), TIMEOUT);
    return line.substring(line.lastIndexOf(' ') + 1);
  }

  @Test
  void everyAcknowledgedWriteSurvivesTheSigkillOfTheKeysNode() {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres()) {
      String config = "troupe.storage.url = \"" + db.url() + "\"";
      try (ProcessCluster cluster =
          ProcessCluster.builder().size(3).config(config).mainClass(FleetChildNode.class).start()) {
        for (NodeProcess node : cluster.nodes()) {
          node.send("start-fleet");
          node.awaitLine(l -> l.equals("TROUPE-FLEET started"), TIMEOUT);
        }
        String key = "account-7";
        String host = where(cluster.node(0), key);
        NodeProcess victim =
            cluster.nodes().stream().filter(n -> n.address().equals(host)).findFirst().get();
        NodeProcess client =
            cluster.nodes().stream().filter(n -> !n.address().equals(host)).findFirst().get();

        client.send("append " + key + " 1 400");
        client.awaitLine(l -> l.equals("TROUPE-ACK " + key + " 50"), TIMEOUT);
        victim.kill();
        client.awaitLine(l -> l.equals("TROUPE-APPENDED " + key), Duration.ofMinutes(3));

        Set<Long> acknowledged = new HashSet<>();
        for (String line : client.lines()) {
          if (line.startsWith("TROUPE-ACK " + key + " ")) {
            acknowledged.add(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
          }
        }
        assertTrue(acknowledged.size() > 300, "writes acknowledged: " + acknowledged.size());
        List<Long> stored =
            Repository.create(db.storage(), "ledgers", LedgerWorker.Ledger.class)
                .load(key)
                .orElseThrow()
                .value()
                .entries();
        Set<Long> missing = new HashSet<>(acknowledged);
        missing.removeAll(stored);
        assertTrue(missing.isEmpty(), "acknowledged but not stored: " + missing);

        assertNotEquals(host, where(client, key), "served again, from another node");
      }
    }
  }
}
