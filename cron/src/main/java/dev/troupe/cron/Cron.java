package dev.troupe.cron;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.Location;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.lock.TroupeLease;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.internal.CronAgent;
import dev.troupe.cron.internal.CronLogs;
import dev.troupe.cron.internal.CronMeters;
import dev.troupe.cron.internal.CronScheduler;
import dev.troupe.cron.internal.CronSettings;
import dev.troupe.cron.internal.CronStore;
import dev.troupe.cron.internal.CronTimer;
import dev.troupe.cron.internal.JobDefinition;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.pattern.StatusReply;

/**
 * A cron scheduler the cluster can trust: each scheduled instant of a job fires once, even when the
 * scheduler's node dies, stalls or has a wrong clock. One scheduler runs in the cluster (a Cluster
 * Singleton under the {@code troupe.cron.leader-lease}); every node that calls {@link #get} runs a
 * cron agent that delivers the ticks to the targets on its node. A Pekko extension, one per node.
 *
 * <pre>{@code
 * Cron cron = Cron.get(node);                          // on every node
 * cron.schedule(CronJob.builder("reindex")
 *         .spec("*}{@code /5 * * * *").target("indexer").build());  // every 5 minutes, once
 * cron.jobs().thenAccept(jobs -> jobs.forEach(System.out::println));
 * }</pre>
 *
 * <p><b>Guarantees.</b> <i>Once per instant</i>: a tick is delivered only after its claim row (job,
 * instant) is inserted under a primary key by the scheduler holding the latest fencing token, so a
 * replaced scheduler's claims are refused and no instant is claimed twice; due times are judged on
 * the database clock. <i>No silent miss</i>: a new scheduler handles every instant since the last
 * recorded one: fired (the misfire policy decides for late ones) or recorded as missed or skipped,
 * with the reason. The history ({@link #jobs()}) records every instant's outcome. A tick is
 * delivered at most once: when a scheduler dies between its claim and the delivery report, the
 * instant is recorded as {@code uncertain}, not fired again.
 *
 * @since 0.1.0
 */
public final class Cron implements Extension {
  private static final Id ID = new Id();

  /** The worker group of every node's cron agent. */
  static final WorkerGroup<CronAgent.Command> AGENTS =
      WorkerGroup.of("troupe-cron-agents", CronAgent.Command.class);

  private final ActorSystem<?> system;
  private TroupeNode node; // set by start, under this
  private CronSettings settings; // set by start, under this
  private ActorRef<CronScheduler.Command> scheduler; // set by start, under this

  private Cron(ActorSystem<?> system) {
    this.system = system;
  }

  /**
   * The cron scheduler of {@code node}'s cluster. The first call on a node starts its agent and its
   * share of the scheduler singleton; call it on every node that should deliver ticks.
   *
   * @throws IllegalArgumentException if {@code node} is null, or {@code troupe.cron} is invalid
   *     (naming the key)
   */
  public static Cron get(TroupeNode node) {
    requireNonNull(node, "node");
    Cron cron = ID.apply(node.system());
    cron.start(node);
    return cron;
  }

  private synchronized void start(TroupeNode troupeNode) {
    if (scheduler != null) {
      return;
    }
    CronSettings s = CronSettings.fromConfig(system.settings().config());
    node = troupeNode;
    settings = s;
    Storage storage = Storage.get(system);
    // The rows are the namespace's; the scheduler's fencing token is named in the lock namespace.
    String lockNamespace = system.settings().config().getString("troupe.lock.namespace");
    CronStore store = new CronStore(storage, troupeNode.namespace(), lockNamespace);
    CronTimer timer =
        s.jdkTimer()
            ? CronTimer.jdk("troupe-cron-timer")
            : CronTimer.pekko(system.scheduler(), system.executionContext());
    system.getWhenTerminated().thenRun(timer::close);
    CronMeters meters = new CronMeters(troupeNode.meterRegistry());

    ActorRef<CronAgent.Command> agent =
        system.systemActorOf(
            CronLogs.onNode(
                CronAgent.Command.class,
                troupeNode.name(),
                CronAgent.create(
                    CronAgent.Recipients.of(troupeNode),
                    s.databaseClock() ? store : null,
                    timer,
                    Clock.systemUTC(),
                    s.clockSyncInterval(),
                    meters)),
            "troupeCronAgent",
            Props.empty());
    troupeNode.registry().register(AGENTS, agent);

    scheduler =
        ClusterSingleton.get(system)
            .init(
                SingletonActor.of(
                        Behaviors.supervise(
                                CronLogs.onNode(
                                    CronScheduler.Command.class,
                                    troupeNode.name(),
                                    CronScheduler.create(
                                        s,
                                        store,
                                        Clock.systemUTC(),
                                        timer,
                                        () -> agents(troupeNode),
                                        ctx ->
                                            TroupeLease.singletonLeaseCheck(ctx, s.leaderLease()),
                                        meters)))
                            .onFailure(
                                SupervisorStrategy.restartWithBackoff(
                                    s.restartBackoffMin(), s.restartBackoffMax(), 0.2)),
                        "troupe-cron-scheduler")
                    .withSettings(
                        TroupeLease.singletonSettings(
                            system, s.leaderLease(), s.leaseRetryInterval())));
  }

  /** The active cron agents of the cluster, by node address. */
  private static Map<String, ActorRef<CronAgent.Command>> agents(TroupeNode node) {
    Map<String, ActorRef<CronAgent.Command>> agents = new HashMap<>();
    for (WorkerEntry<CronAgent.Command> entry : node.registry().workers(AGENTS)) {
      if (entry.isActive()) {
        agents.put(entry.node().toString(), entry.ref());
      }
    }
    return agents;
  }

  /**
   * Schedules {@code job}, replacing the job of that name if there is one. The job is stored and
   * survives a full cluster restart. A target name the address book knows to be absent is refused
   * (one not yet known to this node, while the cluster converges, is accepted).
   *
   * @return completes when the scheduler has stored the job; fails with an {@link
   *     IllegalArgumentException} naming the target if it is unknown
   * @throws IllegalArgumentException if {@code job} is null
   */
  public CompletionStage<Done> schedule(CronJob job) {
    requireNonNull(job, "job");
    Optional<String> target = job.target();
    if (target.isPresent() && node.addressBook().resolve(target.get()) instanceof Location.Absent) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "cron job ["
                  + job.name()
                  + "]: unknown target ["
                  + target.get()
                  + "]: no actor is registered under that name in the address book"));
    }
    JobDefinition definition = job.definition();
    return ask(replyTo -> new CronScheduler.Schedule(definition, replyTo));
  }

  /**
   * Removes job {@code name}; fails if there is none. A job declared in {@code troupe.cron.jobs}
   * comes back at the next take-over of the scheduler, unless it is removed from the configuration.
   *
   * <p>This and the other calls on an existing job ({@link #pause}, {@link #resume}, {@link
   * #triggerNow}) take any non-blank name, not only one that follows {@link dev.troupe.core.Names}:
   * a job stored by an earlier version under a name the rule now refuses can still be managed and
   * removed.
   *
   * @throws IllegalArgumentException if {@code name} is null or blank
   */
  public CompletionStage<Done> unschedule(String name) {
    String n = requireNonBlank(name, "cron job name");
    return ask(replyTo -> new CronScheduler.Unschedule(n, replyTo));
  }

  /**
   * Pauses job {@code name}: no instant is scheduled until {@link #resume}; stored.
   *
   * @throws IllegalArgumentException if {@code name} is null or blank
   */
  public CompletionStage<Done> pause(String name) {
    String n = requireNonBlank(name, "cron job name");
    return ask(replyTo -> new CronScheduler.Pause(n, replyTo));
  }

  /**
   * Resumes job {@code name} from its next instant after now; the paused ones are not fired.
   *
   * @throws IllegalArgumentException if {@code name} is null or blank
   */
  public CompletionStage<Done> resume(String name) {
    String n = requireNonBlank(name, "cron job name");
    return ask(replyTo -> new CronScheduler.Resume(n, replyTo));
  }

  /**
   * Fires job {@code name} now, paused or not, under its overlap policy; completes when the instant
   * is claimed (and fails if the overlap policy skipped it).
   *
   * @throws IllegalArgumentException if {@code name} is null or blank
   */
  public CompletionStage<Done> triggerNow(String name) {
    String n = requireNonBlank(name, "cron job name");
    return ask(replyTo -> new CronScheduler.TriggerNow(n, replyTo));
  }

  /** Every job's status: next and last fire, owner node, pause, and its latest runs. */
  public CompletionStage<List<JobStatus>> jobs() {
    return AskPattern.<CronScheduler.Command, CronScheduler.JobViews>askWithStatus(
            scheduler, CronScheduler.GetJobs::new, settings.askTimeout(), system.scheduler())
        .thenApply(views -> views.jobs().stream().map(Cron::status).toList());
  }

  private static JobStatus status(CronScheduler.JobView v) {
    return new JobStatus(
        v.name(),
        v.spec(),
        ZoneId.of(v.zone()),
        Optional.ofNullable(v.nextFireMillis()).map(Instant::ofEpochMilli),
        Optional.ofNullable(v.lastFireMillis()).map(Instant::ofEpochMilli),
        Optional.ofNullable(v.owner()).map(AddressFromURIString::parse),
        v.paused(),
        v.recentRuns());
  }

  private CompletionStage<Done> ask(
      Function<ActorRef<StatusReply<Done>>, CronScheduler.Command> message) {
    return AskPattern.<CronScheduler.Command, Done>askWithStatus(
        scheduler, message::apply, settings.askTimeout(), system.scheduler());
  }

  static final class Id extends ExtensionId<Cron> {
    @Override
    public Cron createExtension(ActorSystem<?> system) {
      return new Cron(system);
    }
  }
}
