package dev.troupe.sharding;

import dev.troupe.core.TroupeNode;
import dev.troupe.testkit.ChildNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A child node JVM for fleet fault tests: {@link ChildNode} plus commands.
 *
 * <ul>
 *   <li>{@code start-fleet}: starts the ledger fleet on {@code troupe.storage}; prints {@code
 *       TROUPE-FLEET started};
 *   <li>{@code where <key>}: prints {@code TROUPE-WHERE <key> <node>};
 *   <li>{@code append <key> <from> <to>}: appends entries from..to one by one (1 s ask timeout),
 *       printing {@code TROUPE-ACK <key> <n>} for each acknowledged one and {@code TROUPE-NACK
 *       <key> <n>} for each that was not, then {@code TROUPE-APPENDED <key>}.
 * </ul>
 */
public final class FleetChildNode {
  private FleetChildNode() {}

  private static WorkerFleet<LedgerWorker.Command> fleet;

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "start-fleet", FleetChildNode::startFleet,
            "where", FleetChildNode::where,
            "append", FleetChildNode::append));
  }

  private static void startFleet(TroupeNode node, String argument) {
    fleet = WorkerFleet.start(node, LedgerWorker.spec(node));
    ChildNode.emit("FLEET", "started");
  }

  private static void where(TroupeNode node, String key) throws Exception {
    String at =
        fleet
            .<String>ask(key, LedgerWorker.Where::new, Duration.ofSeconds(10))
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);
    ChildNode.emit("WHERE", key, at);
  }

  private static void append(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    String key = parts[0];
    long from = Long.parseLong(parts[1]);
    long to = Long.parseLong(parts[2]);
    Thread writer =
        new Thread(
            () -> {
              for (long n = from; n <= to; n++) {
                long entry = n;
                try {
                  fleet
                      .<Long>ask(
                          key,
                          replyTo -> new LedgerWorker.Append(entry, replyTo),
                          Duration.ofSeconds(1))
                      .toCompletableFuture()
                      .get(5, TimeUnit.SECONDS);
                  ChildNode.emit("ACK", key, Long.toString(n));
                } catch (ExecutionException | TimeoutException e) {
                  ChildNode.emit("NACK", key, Long.toString(n));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
              }
              ChildNode.emit("APPENDED", key);
            },
            "appender-" + key);
    writer.start();
  }
}
