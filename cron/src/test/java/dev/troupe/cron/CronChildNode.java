package dev.troupe.cron;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.testkit.ChildNode;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A child node JVM for cron fault tests: {@link ChildNode} plus the command {@code cron}, which
 * starts {@link Cron} on the node and a witness target in worker group {@code cron-witness}. The
 * witness prints every tick it receives as {@code TROUPE-TICK <job> <scheduledAt millis> <received
 * millis> <token>} the moment it arrives: a delivery log the test reads across processes, that
 * survives the SIGKILL of its node.
 */
public final class CronChildNode {
  static final WorkerGroup<CronTick> WITNESS = WorkerGroup.of("cron-witness", CronTick.class);

  private CronChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(args, Map.of("cron", CronChildNode::cron));
  }

  private static void cron(TroupeNode node, String argument) {
    ActorRef<CronTick> witness =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    (CronTick tick) -> {
                      ChildNode.emit(
                          "TICK",
                          tick.job(),
                          Long.toString(tick.scheduledAt().toEpochMilli()),
                          Long.toString(System.currentTimeMillis()),
                          Long.toString(tick.fencingToken()));
                      return Behaviors.same();
                    }),
                "cron-witness",
                Props.empty());
    node.registry()
        .register(WITNESS, witness)
        .thenRun(
            () -> {
              Cron.get(node);
              ChildNode.emit("CRON", "ready");
            });
  }
}
