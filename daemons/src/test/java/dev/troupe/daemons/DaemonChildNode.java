package dev.troupe.daemons;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.testkit.ChildNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A child node JVM for daemon fault tests: {@link ChildNode} plus commands. Every daemon start and
 * stop is printed with the wall-clock time ({@code TROUPE-DAEMON start|stop <name> <epoch>
 * <millis>}), a witness log the test reads across processes.
 *
 * <ul>
 *   <li>{@code daemons <count>}: joins the daemons of this node with a launcher "witness" whose
 *       scanner lists daemons pd-0 .. pd-(count-1);
 *   <li>{@code running}: asks the leader for the running daemons, printing {@code TROUPE-RUNNING
 *       <count>} (or {@code TROUPE-RUNNING failed} when the leader does not answer);
 *   <li>{@code leader-only <name>}: competes for lock {@code name}, printing {@code TROUPE-LEADING
 *       <name> <token>} when leading;
 *   <li>{@code once <from> <to>}: runs items from..to through the OnceLog, printing {@code
 *       TROUPE-RAN <item>} for each it ran, then {@code TROUPE-ONCE-DONE}.
 * </ul>
 */
public final class DaemonChildNode {
  private DaemonChildNode() {}

  /** The witness daemons' protocol (they take no messages in these tests). */
  enum Nothing implements TroupeSerializable {
    INSTANCE
  }

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "daemons", DaemonChildNode::daemons,
            "leader-only", DaemonChildNode::leaderOnly,
            "once", DaemonChildNode::once,
            "hosts", DaemonChildNode::hosts,
            "running", DaemonChildNode::running));
  }

  static Behavior<Nothing> witness(DaemonSpec spec) {
    return Behaviors.setup(
        ctx -> {
          ChildNode.emit(
              "DAEMON",
              "start",
              spec.name(),
              Long.toString(spec.epoch()),
              Long.toString(System.currentTimeMillis()));
          return Behaviors.receive(Nothing.class)
              .onSignal(
                  PostStop.class,
                  s -> {
                    ChildNode.emit(
                        "DAEMON",
                        "stop",
                        spec.name(),
                        Long.toString(spec.epoch()),
                        Long.toString(System.currentTimeMillis()));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void daemons(TroupeNode node, String argument) {
    int count = Integer.parseInt(argument.trim());
    List<DaemonSpec> specs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      specs.add(DaemonSpec.of("pd-" + i));
    }
    Daemons.get(node)
        .registerLauncher(
            "witness",
            Launcher.of(Nothing.class, DaemonChildNode::witness)
                .withRecovery(() -> List.of(specs).iterator()));
    ChildNode.emit("DAEMONS", "ready");
  }

  private static void running(TroupeNode node, String argument) {
    Daemons.get(node)
        .running()
        .whenComplete(
            (running, failure) ->
                ChildNode.emit(
                    "RUNNING", failure == null ? Integer.toString(running.size()) : "failed"));
  }

  private static void hosts(TroupeNode node, String argument) {
    ChildNode.emit(
        "HOSTS",
        node.registry().workers(Daemons.HOSTS).stream()
            .map(e -> e.node() + "=" + e.state())
            .sorted()
            .collect(java.util.stream.Collectors.joining(",")));
  }

  private static void leaderOnly(TroupeNode node, String name) {
    LeaderOnly.run(
        node,
        name,
        JdbcLockRegistry.get(node.system()),
        token -> {
          ChildNode.emit("LEADING", name, Long.toString(token));
          return Behaviors.ignore();
        });
  }

  private static void once(TroupeNode node, String argument) {
    String[] parts = argument.trim().split(" ");
    int from = Integer.parseInt(parts[0]);
    int to = Integer.parseInt(parts[1]);
    OnceLog log = OnceLog.create(Storage.get(node.system())).withNode(node.name());
    Thread runner =
        new Thread(
            () -> {
              for (int i = from; i <= to; i++) {
                String item = "item-" + i;
                log.runOnce(
                        item,
                        () -> {
                          ChildNode.emit("RAN", item);
                          return CompletableFuture.completedFuture(null);
                        })
                    .toCompletableFuture()
                    .join();
              }
              ChildNode.emit("ONCE-DONE");
            },
            "once-runner");
    runner.start();
  }
}
