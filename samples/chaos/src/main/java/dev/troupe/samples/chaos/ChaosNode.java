package dev.troupe.samples.chaos;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.Cron;
import dev.troupe.cron.CronJob;
import dev.troupe.cron.CronTick;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.SchedulerEvent;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Daemons;
import dev.troupe.daemons.Launcher;
import dev.troupe.testkit.ChildNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The {@code main} of a chaos node JVM: a Troupe node ({@link ChildNode}: started by the harness,
 * reports membership on stdout) that, on the command {@code workload}, runs every guarantee under
 * test at once: {@value #DAEMONS} daemons that beat with fenced writes, a cron tick receiver, a
 * lock contender and an acknowledged-write client. {@code schedule-cron [MISFIRE]} (sent to one
 * node) schedules {@value #JOBS} cluster jobs firing every second, with the job builder's default
 * misfire policy or the one named ({@code schedule-cron CATCH_UP}: catch-up window {@link
 * #CATCH_UP_WINDOW}).
 */
public final class ChaosNode {
  static final int DAEMONS = 10;
  static final int JOBS = 10;

  /** The catch-up window of CATCH_UP jobs: far longer than a failover (~10–20 s). */
  static final Duration CATCH_UP_WINDOW = Duration.ofSeconds(60);

  static final WorkerGroup<CronTick> TICKS = WorkerGroup.of("chaos-ticks", CronTick.class);

  private ChaosNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "workload", ChaosNode::workload,
            "schedule-cron", ChaosNode::scheduleCron,
            "ticks", ChaosNode::ticksOnly,
            "group", ChaosNode::group));
  }

  private static void workload(TroupeNode node, String argument) throws Exception {
    Witness witness = new Witness(node.name());
    Storage storage = Storage.get(node.system());
    Fence.createTables(storage.dataSource());
    Fence fence = new Fence(storage.dataSource());
    ExecutorService io = Executors.newSingleThreadExecutor(daemonThreads("chaos-daemon-io"));

    List<DaemonSpec> specs = new ArrayList<>();
    for (int i = 0; i < DAEMONS; i++) {
      specs.add(DaemonSpec.of("d-" + i));
    }
    Daemons.get(node)
        .registerLauncher(
            "chaos",
            Launcher.of(
                    BeatingDaemon.Beat.class,
                    spec -> BeatingDaemon.create(spec, Daemons.get(node), fence, witness, io))
                .withRecovery(() -> List.of(specs).iterator()));

    receiveTicks(node, witness);

    LockContender.start(JdbcLockRegistry.get(node.system()), fence, witness);
    AckedWrites.client(
        AckedWrites.start(node, storage.dataSource(), witness), node.name(), witness);
    ChildNode.emit("WORKLOAD", "ready");
  }

  /**
   * The tick receiver alone (a witness {@code tick} per delivery, with its scheduled instant), for
   * runs whose jobs come from configuration, such as the clock scenario under libfaketime.
   */
  private static void ticksOnly(TroupeNode node, String argument) {
    receiveTicks(node, new Witness(node.name()));
    ChildNode.emit("TICKS", "ready");
  }

  private static void receiveTicks(TroupeNode node, Witness witness) {
    ActorRef<CronTick> ticks =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    (CronTick tick) -> {
                      var event = witness.event("tick", tick.job(), tick.fencingToken());
                      event.put("at", tick.scheduledAt().toEpochMilli());
                      witness.emit(event);
                      return Behaviors.same();
                    }),
                "chaos-ticks",
                Props.empty());
    node.registry().register(TICKS, ticks).toCompletableFuture().join();
    witnessScheduler(node, witness);
    Cron.get(node);
  }

  /**
   * Witnesses what the cron scheduler does on this node: {@code scheduler_start} (took over),
   * {@code scheduler_claim} (about to claim, having checked its lease), {@code scheduler_stop}, all
   * with {@code epoch} = its token and {@code t} = when it happened.
   */
  private static void witnessScheduler(TroupeNode node, Witness witness) {
    ActorRef<SchedulerEvent> events =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    (SchedulerEvent e) -> {
                      String kind =
                          switch (e.kind()) {
                            case TOOK_OVER -> "scheduler_start";
                            case CLAIMING -> "scheduler_claim";
                            case STOPPED -> "scheduler_stop";
                          };
                      var event = witness.event(kind, "cron-scheduler", e.token());
                      event.put("t", e.at().toEpochMilli());
                      event.put("t0", e.at().toEpochMilli());
                      witness.emit(event);
                      return Behaviors.same();
                    }),
                "chaos-scheduler-witness",
                Props.empty());
    node.system().eventStream().tell(new EventStream.Subscribe<>(SchedulerEvent.class, events));
  }

  /** Threads that do not keep the JVM alive, named {@code name}. */
  static ThreadFactory daemonThreads(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Prints the nodes of the tick receivers this node's registry lists: {@code TROUPE-GROUP a,b}.
   */
  private static void group(TroupeNode node, String argument) {
    ChildNode.emit(
        "GROUP",
        node.registry().workers(TICKS).stream()
            .map(e -> e.node().toString())
            .sorted()
            .collect(java.util.stream.Collectors.joining(",")));
  }

  /**
   * Schedules the jobs {@code c-0..c-9}; {@code argument} is empty (the builder's misfire policy)
   * or a {@link MisfirePolicy} name.
   */
  private static void scheduleCron(TroupeNode node, String argument) {
    Cron cron = Cron.get(node);
    for (int i = 0; i < JOBS; i++) {
      CronJob.Builder job = CronJob.builder("c-" + i).spec("* * * * * *").targetGroup(TICKS);
      if (!argument.isBlank()) {
        MisfirePolicy misfire = MisfirePolicy.valueOf(argument.trim());
        job.misfire(misfire);
        if (misfire == MisfirePolicy.CATCH_UP) {
          job.catchUpWindow(CATCH_UP_WINDOW);
        }
      }
      cron.schedule(job.build()).toCompletableFuture().join();
    }
    ChildNode.emit("CRON", "scheduled");
  }
}
