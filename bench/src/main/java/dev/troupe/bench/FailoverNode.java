package dev.troupe.bench;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Daemons;
import dev.troupe.daemons.Launcher;
import dev.troupe.testkit.ChildNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The node JVM of {@link FailoverBench}: a {@link ChildNode} whose command {@code daemons <n>}
 * joins the node's daemons with a launcher whose scanner lists daemons fo-0 .. fo-(n-1). Every
 * daemon prints {@code TROUPE-DAEMON start <name> <epoch> <wall-clock millis>} when it starts. The
 * same command starts the baseline: a raw Pekko Cluster Singleton (no lease, the node's own failure
 * detector and Split Brain Resolver settings) that prints {@code TROUPE-SINGLETON start <wall-clock
 * millis>} when it starts on a node.
 */
public final class FailoverNode {
  private FailoverNode() {}

  /** The daemons take no messages. */
  enum Nothing implements TroupeSerializable {
    INSTANCE
  }

  public static void main(String[] args) throws Exception {
    ChildNode.run(args, Map.of("daemons", FailoverNode::daemons));
  }

  private static Behavior<Nothing> daemon(DaemonSpec spec) {
    return Behaviors.setup(
        ctx -> {
          ChildNode.emit(
              "DAEMON",
              "start",
              spec.name(),
              Long.toString(spec.epoch()),
              Long.toString(System.currentTimeMillis()));
          return Behaviors.ignore();
        });
  }

  private static Behavior<Nothing> baseline() {
    return Behaviors.setup(
        ctx -> {
          ChildNode.emit("SINGLETON", "start", Long.toString(System.currentTimeMillis()));
          return Behaviors.ignore();
        });
  }

  private static void daemons(TroupeNode node, String argument) {
    int count = Integer.parseInt(argument.trim());
    List<DaemonSpec> specs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      specs.add(DaemonSpec.of("fo-" + i));
    }
    Daemons.get(node)
        .registerLauncher(
            "bench",
            Launcher.of(Nothing.class, FailoverNode::daemon)
                .withRecovery(() -> List.of(specs).iterator()));
    ClusterSingleton.get(node.system())
        .init(SingletonActor.of(baseline(), "bench-baseline-singleton"));
    ChildNode.emit("DAEMONS", "ready");
  }
}
