package dev.troupe.samples.chaos;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Acknowledged writes: a fleet worker per key inserts each write into {@code chaos_write} and only
 * then replies; a client on every node sends a write every 50 ms and logs {@code write_ack} for
 * each reply. Every acknowledged id must be in the table at the end, whatever was killed meanwhile.
 *
 * <p>The worker is also a single writer doing read-modify-write, as an application's per-key actor
 * does: it reads its key's counter once when it starts ({@code chaos_counter}), keeps it in memory,
 * and with every write stores its in-memory value plus one, in the same transaction as the insert —
 * a blind write of what it believes. Two activations of one key at once would overwrite each
 * other's counts: at the end every counter must equal its key's rows in {@code chaos_write}. The
 * witness logs {@code worker_start} (epoch = the activation's number in its process) and {@code
 * worker_write} (with {@code t0} before the transaction), so the checker also sees two activations
 * acting at once.
 */
final class AckedWrites {
  static final String DDL =
      "CREATE TABLE IF NOT EXISTS chaos_write (id VARCHAR(100) PRIMARY KEY,"
          + " k VARCHAR(50) NOT NULL, node VARCHAR(100) NOT NULL, t BIGINT NOT NULL)";
  static final String COUNTER_DDL =
      "CREATE TABLE IF NOT EXISTS chaos_counter (k VARCHAR(50) PRIMARY KEY, n BIGINT NOT NULL)";
  private static final AtomicLong ACTIVATIONS = new AtomicLong();
  static final int KEYS = 50;

  /** A write to a key's worker. */
  record Write(String id, ActorRef<Done> replyTo) implements TroupeSerializable {}

  private AckedWrites() {}

  static WorkerFleet<Write> start(TroupeNode node, DataSource dataSource, Witness witness) {
    return WorkerFleet.start(
        node,
        FleetSpec.of(
                "chaos-keys", Write.class, key -> worker(key, node.name(), dataSource, witness))
            .withIdleTimeout(Duration.ofMinutes(10)));
  }

  private static Behavior<Write> worker(
      String key, String nodeName, DataSource dataSource, Witness witness) {
    return Behaviors.setup(
        context -> {
          long activation = ACTIVATIONS.incrementAndGet();
          long[] counter = {readCounter(dataSource, key)}; // what this activation believes
          witness.emit("worker_start", key, activation);
          return Behaviors.receive(Write.class)
              .onMessage(
                  Write.class,
                  write -> {
                    var event = witness.event("worker_write", key, activation);
                    if (insert(dataSource, write.id(), key, nodeName, counter[0] + 1)) {
                      counter[0]++;
                    }
                    event.put("t", System.currentTimeMillis());
                    witness.emit(event);
                    write.replyTo().tell(Done.getInstance());
                    return Behaviors.same();
                  })
              .onSignal(
                  PostStop.class,
                  stop -> {
                    witness.emit("worker_stop", key, activation);
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static long readCounter(DataSource dataSource, String key) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO chaos_counter (k, n) SELECT ?, 0 WHERE NOT EXISTS"
                  + " (SELECT 1 FROM chaos_counter WHERE k = ?)")) {
        insert.setString(1, key);
        insert.setString(2, key);
        insert.executeUpdate();
      } catch (SQLException e) {
        if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
          throw e;
        }
      }
      try (PreparedStatement select =
          c.prepareStatement("SELECT n FROM chaos_counter WHERE k = ?")) {
        select.setString(1, key);
        try (ResultSet rs = select.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    }
  }

  /**
   * Inserts write {@code id} and sets the key's counter to {@code count} in one transaction; false
   * if the id was stored already (a redelivery: acknowledged again, not counted again).
   */
  private static boolean insert(
      DataSource dataSource, String id, String key, String node, long count) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert =
              c.prepareStatement("INSERT INTO chaos_write (id, k, node, t) VALUES (?, ?, ?, ?)");
          PreparedStatement update =
              c.prepareStatement("UPDATE chaos_counter SET n = ? WHERE k = ?")) {
        insert.setString(1, id);
        insert.setString(2, key);
        insert.setString(3, node);
        insert.setLong(4, System.currentTimeMillis());
        insert.executeUpdate();
        update.setLong(1, count);
        update.setString(2, key);
        update.executeUpdate();
        c.commit();
        return true;
      } catch (SQLException e) {
        c.rollback();
        if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
          throw e; // the worker crashes and restarts; the client sees a timeout, not an ack
        }
        return false; // a redelivered write that is already stored: acknowledge it again
      } finally {
        c.setAutoCommit(true);
      }
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
