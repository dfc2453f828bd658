package dev.troupe.samples.chaos;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Acknowledged writes: a fleet worker per key inserts each write into {@code chaos_write} and only
 * then replies; a client on every node sends a write every 50 ms and logs {@code write_ack} for
 * each reply. Every acknowledged id must be in the table at the end, whatever was killed meanwhile.
 */
final class AckedWrites {
  static final String DDL =
      "CREATE TABLE IF NOT EXISTS chaos_write (id VARCHAR(100) PRIMARY KEY,"
          + " k VARCHAR(50) NOT NULL, node VARCHAR(100) NOT NULL, t BIGINT NOT NULL)";
  static final int KEYS = 50;

  /** A write to a key's worker. */
  record Write(String id, ActorRef<Done> replyTo) implements TroupeSerializable {}

  private AckedWrites() {}

  static WorkerFleet<Write> start(TroupeNode node, DataSource dataSource) {
    return WorkerFleet.start(
        node,
        FleetSpec.of("chaos-keys", Write.class, key -> worker(key, node.name(), dataSource))
            .withIdleTimeout(Duration.ofMinutes(10)));
  }

  private static Behavior<Write> worker(String key, String nodeName, DataSource dataSource) {
    return Behaviors.receiveMessage(
        write -> {
          insert(dataSource, write.id(), key, nodeName);
          write.replyTo().tell(Done.getInstance());
          return Behaviors.same();
        });
  }

  private static void insert(DataSource dataSource, String id, String key, String node)
      throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement insert =
            c.prepareStatement("INSERT INTO chaos_write (id, k, node, t) VALUES (?, ?, ?, ?)")) {
      insert.setString(1, id);
      insert.setString(2, key);
      insert.setString(3, node);
      insert.setLong(4, System.currentTimeMillis());
      insert.executeUpdate();
    } catch (SQLException e) {
      if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
        throw e; // the worker crashes and restarts; the client sees a timeout, not an ack
      }
      // a redelivered write that is already stored: acknowledge it again
    }
  }

  /** Starts the client: one write every 50 ms to a random key, each acknowledged one witnessed. */
  static void client(WorkerFleet<Write> fleet, String nodeName, Witness witness) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(ChaosNode.daemonThreads("chaos-writer"));
    AtomicLong sequence = new AtomicLong();
    String prefix = nodeName + "-" + ProcessHandle.current().pid() + "-";
    timer.scheduleWithFixedDelay(
        () -> {
          String id = prefix + sequence.incrementAndGet();
          String key = "k-" + Math.floorMod(id.hashCode(), KEYS);
          fleet
              .ask(key, (ActorRef<Done> replyTo) -> new Write(id, replyTo), Duration.ofSeconds(5))
              .thenAccept(
                  done -> {
                    var event = witness.event("write_ack", key, -1);
                    event.put("id", id);
                    witness.emit(event);
                  });
        },
        1000,
        50,
        TimeUnit.MILLISECONDS);
  }
}
