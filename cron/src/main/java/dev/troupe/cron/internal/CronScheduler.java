package dev.troupe.cron.internal;

import dev.troupe.core.HashRing;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.lock.StaleTokenException;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.JobRun;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.SchedulerEvent;
import dev.troupe.cron.internal.CronStore.Claim;
import dev.troupe.cron.internal.CronStore.ClaimRequest;
import dev.troupe.cron.internal.CronStore.NotRun;
import dev.troupe.cron.internal.CronStore.Outcome;
import dev.troupe.cron.internal.CronStore.StoredJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * INTERNAL API. The cron scheduler: one per cluster (a Cluster Singleton under the cron lease). It
 * keeps every job's next instant in a priority queue and sets one timer for the earliest; when it
 * fires, it claims the due instants in the database with its fencing token and has the nodes'
 * {@link CronAgent}s deliver the claimed ticks at their instants.
 */
public final class CronScheduler extends AbstractBehavior<CronScheduler.Command> {
  /*
   * Life of an instant t of job j:
   *   timer at t - claim-ahead -> Wake -> late? misfire policy : overlap policy -> Run(j, t, node)
   *   -> claim on the blocking dispatcher -> CLAIMED: the agent gets Deliver at t (the timer sends
   *   it) -> Delivered -> outcome recorded; TAKEN: an earlier scheduler fired it; STALE: a later
   *   scheduler exists, this one fails (and is restarted with a backoff, taking a new token if it
   *   is still the singleton); EARLY: the database clock says t is not near, claim again later.
   * Every instant between the last recorded one and now is handled: fired, or recorded as
   * skipped/missed with the reason. Due times are judged on the database clock (an offset to the
   * local clock, measured every clock-sync-interval) and the claim itself refuses early instants.
   */

  /** The scheduler's protocol. */
  public sealed interface Command {}

  /** Schedules (or replaces) a job; stored so that it survives a full cluster restart. */
  public record Schedule(JobDefinition definition, ActorRef<StatusReply<Done>> replyTo)
      implements Command, TroupeSerializable {}

  /** Removes a job. */
  public record Unschedule(String name, ActorRef<StatusReply<Done>> replyTo)
      implements Command, TroupeSerializable {}

  /** Pauses a job: its instants are not scheduled until it is resumed. */
  public record Pause(String name, ActorRef<StatusReply<Done>> replyTo)
      implements Command, TroupeSerializable {}

  /** Resumes a paused job from its next instant after now. */
  public record Resume(String name, ActorRef<StatusReply<Done>> replyTo)
      implements Command, TroupeSerializable {}

  /** Fires a job now (the overlap policy applies); acknowledged once the instant is claimed. */
  public record TriggerNow(String name, ActorRef<StatusReply<Done>> replyTo)
      implements Command, TroupeSerializable {}

  /** Asks for every job's status. */
  public record GetJobs(ActorRef<StatusReply<JobViews>> replyTo)
      implements Command, TroupeSerializable {}

  /**
   * One job's status on the wire.
   *
   * @param nextFireMillis the next instant, or null
   * @param lastFireMillis the latest delivered instant, or null
   * @param owner the delivering node's address, or null (NODE jobs, or no node)
   */
  public record JobView(
      String name,
      String spec,
      String zone,
      Long nextFireMillis,
      Long lastFireMillis,
      String owner,
      boolean paused,
      List<JobRun> recentRuns)
      implements TroupeSerializable {}

  /** Every job's status. */
  public record JobViews(List<JobView> jobs) implements TroupeSerializable {}

  private record Loaded(
      long token,
      long clockOffset,
      List<StoredJob> stored,
      List<String> unreadable,
      Map<String, Instant> lastRecorded,
      Map<String, Instant> lastFired,
      int orphans,
      List<ClaimRequest> adopted)
      implements Command {}

  private record LoadFailed(Throwable cause) implements Command {}

  private enum LoadAgain implements Command {
    INSTANCE
  }

  private enum Wake implements Command {
    INSTANCE
  }

  private enum SyncClock implements Command {
    INSTANCE
  }

  private enum Maintain implements Command {
    INSTANCE
  }

  private record ClockSynced(long offset) implements Command {}

  private record Claimed(List<Run> runs, List<Claim> claims) implements Command {}

  private record ClaimFailed(List<Run> runs, Throwable cause) implements Command {}

  private record ClaimAgain(List<Run> runs) implements Command {}

  private record Reported(CronAgent.Reports reports) implements Command {}

  private record DeliveryTimedOut(String key) implements Command {}

  private record Stored(Runnable apply, ActorRef<StatusReply<Done>> replyTo, Throwable failure)
      implements Command {}

  private record RunsRead(
      Map<String, List<JobRun>> runs, ActorRef<StatusReply<JobViews>> replyTo, Throwable failure)
      implements Command {}

  private record RecordsWritten(List<NotRun> rows, Throwable failure) implements Command {}

  /** One job as the scheduler runs it. */
  private static final class JobState {
    final JobDefinition definition;
    final CronSpec spec;
    final long generation;
    boolean paused;
    Instant next;
    Instant lastFire;
    Instant buffered;
    int inFlight;

    JobState(JobDefinition definition, long generation, boolean paused) {
      this.definition = definition;
      this.spec = definition.parsedSpec();
      this.generation = generation;
      this.paused = paused;
    }

    String name() {
      return definition.name();
    }

    boolean awaits() {
      return definition.awaitMillis() > 0;
    }
  }

  /** A queued instant; stale when its job was replaced, paused or removed since. */
  private record Due(Instant at, String job, long generation) {}

  /** An instant of a job to claim and deliver through {@code agent} ({@code node} "*": CLUSTER). */
  private record Run(
      JobState job,
      Instant at,
      String node,
      ActorRef<CronAgent.Command> agent,
      ActorRef<StatusReply<Done>> ack) {
    String key() {
      return idempotencyKey(job.name(), at, node);
    }
  }

  /** The idempotency key of a tick: unique per job, instant and (for NODE jobs) node. */
  static String idempotencyKey(String job, Instant at, String node) {
    return "*".equals(node) ? job + "@" + at : job + "@" + at + "@" + node;
  }

  private final CronSettings settings;
  private final CronStore store;
  private final Clock clock;
  private final CronTimer timer;
  private final Supplier<Map<String, ActorRef<CronAgent.Command>>> agents;
  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final Executor blocking;
  private final org.apache.pekko.actor.typed.ActorSystem<?> system;
  private final ActorRef<CronAgent.Reports> reports;
  private final BooleanSupplier leased;
  private final FirePolicy.Limits limits;
  private final CronMeters meters;

  private final Map<String, JobState> jobs = new LinkedHashMap<>();
  private final PriorityQueue<Due> queue =
      new PriorityQueue<>(Comparator.comparing(Due::at).thenComparing(Due::job));
  private final Map<String, Run> pending = new HashMap<>();
  private final List<NotRun> unwritten = new ArrayList<>();
  private final List<Run> waitingClaims = new ArrayList<>();
  private boolean claiming; // a claim transaction is in flight
  private long token;
  private long clockOffset;
  private long generations;
  private CronTimer.Handle armed;
  private Instant armedFor;
  private List<String> ringMembers = List.of();
  private HashRing ring;

  private CronScheduler(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      StashBuffer<Command> stash,
      CronSettings settings,
      CronStore store,
      Clock clock,
      CronTimer timer,
      Supplier<Map<String, ActorRef<CronAgent.Command>>> agents,
      BooleanSupplier leased,
      CronMeters meters) {
    super(ctx);
    this.leased = leased;
    this.meters = meters;
    this.timers = timers;
    this.stash = stash;
    this.settings = settings;
    this.store = store;
    this.clock = clock;
    this.timer = timer;
    this.agents = agents;
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.system = ctx.getSystem();
    this.reports = ctx.messageAdapter(CronAgent.Reports.class, Reported::new);
    this.limits =
        new FirePolicy.Limits(
            settings.misfireThreshold().toMillis(),
            settings.claimAhead().toMillis(),
            settings.maxMissedRecords());
  }

  /**
   * The scheduler.
   *
   * @param clock the local clock (the database clock is measured against it)
   * @param timer wakes the scheduler and sends ticks at their instants
   * @param agents the cron agents of the cluster by node address, at the time of the call
   */
  public static Behavior<Command> create(
      CronSettings settings,
      CronStore store,
      Clock clock,
      CronTimer timer,
      Supplier<Map<String, ActorRef<CronAgent.Command>>> agents) {
    return create(settings, store, clock, timer, agents, ctx -> () -> true);
  }

  /**
   * The scheduler under a lease: {@code leaseCheck} gives, in the scheduler's own context, the
   * check of whether its node still holds and trusts the scheduler lease; it takes over and claims
   * instants only while the check is true.
   */
  public static Behavior<Command> create(
      CronSettings settings,
      CronStore store,
      Clock clock,
      CronTimer timer,
      Supplier<Map<String, ActorRef<CronAgent.Command>>> agents,
      Function<ActorContext<Command>, BooleanSupplier> leaseCheck) {
    return create(settings, store, clock, timer, agents, leaseCheck, CronMeters.none());
  }

  /** The scheduler under a lease, recording on {@code meters}. */
  public static Behavior<Command> create(
      CronSettings settings,
      CronStore store,
      Clock clock,
      CronTimer timer,
      Supplier<Map<String, ActorRef<CronAgent.Command>>> agents,
      Function<ActorContext<Command>, BooleanSupplier> leaseCheck,
      CronMeters meters) {
    return Behaviors.withStash(
        100_000,
        stash ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.setup(
                        ctx -> {
                          CronScheduler s =
                              new CronScheduler(
                                  ctx,
                                  timers,
                                  stash,
                                  settings,
                                  store,
                                  clock,
                                  timer,
                                  agents,
                                  leaseCheck.apply(ctx),
                                  meters);
                          return s.load();
                        })));
  }

  // ---------------------------------------------------------------------------------------------
  // Take-over: a new token, the stored jobs, the history, the database clock.

  private Behavior<Command> load() {
    if (!leased.getAsBoolean()) {
      // The lease was lost between Pekko's start of this singleton and now (or this is a restart
      // after it): taking a new token would only make the rightful scheduler's claims stale.
      timers.startSingleTimer(LoadAgain.INSTANCE, Duration.ofMillis(200));
      return Behaviors.receive(Command.class)
          .onMessageEquals(LoadAgain.INSTANCE, this::load)
          .onAnyMessage(
              msg -> {
                stash.stash(msg);
                return Behaviors.same();
              })
          .build();
    }
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> {
                  long offset = settings.databaseClock() ? measureOffset() : 0;
                  long newToken = store.takeOver();
                  List<String> unreadable = new ArrayList<>();
                  List<StoredJob> stored = store.jobs(unreadable);
                  List<ClaimRequest> adopted =
                      store.adoptOrphanedClaims(
                          newToken, catchUpStarts(stored, clock.millis() + offset));
                  int orphans = store.closeOrphanedClaims(newToken);
                  store.prune(
                      Instant.ofEpochMilli(clock.millis() + offset)
                          .minus(settings.historyRetention()));
                  return new Loaded(
                      newToken,
                      offset,
                      stored,
                      unreadable,
                      store.lastRecorded(),
                      store.lastFired(),
                      orphans,
                      adopted);
                },
                blocking),
            (loaded, failure) -> failure == null ? loaded : new LoadFailed(failure));
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(
            LoadFailed.class,
            msg -> {
              throw new IllegalStateException(
                  "the cron scheduler could not take over: " + msg.cause().getMessage(),
                  msg.cause());
            })
        .onAnyMessage(
            msg -> {
              stash.stash(msg);
              return Behaviors.same();
            })
        .build();
  }

  /**
   * For each CATCH_UP job (declared or stored, stored winning), the oldest instant its catch-up
   * window still covers at {@code nowMillis}: its predecessor's undelivered claims from then on are
   * delivered again.
   */
  private Map<String, Instant> catchUpStarts(List<StoredJob> stored, long nowMillis) {
    Map<String, JobDefinition> byName = new LinkedHashMap<>();
    settings.jobs().forEach(d -> byName.put(d.name(), d));
    stored.forEach(j -> byName.put(j.definition().name(), j.definition()));
    Map<String, Instant> starts = new LinkedHashMap<>();
    for (JobDefinition d : byName.values()) {
      if (d.misfire() == MisfirePolicy.CATCH_UP) {
        starts.put(d.name(), Instant.ofEpochMilli(nowMillis - d.catchUpMillis()));
      }
    }
    return starts;
  }

  private long measureOffset() {
    return store.clockOffset(clock);
  }

  private Behavior<Command> onLoaded(Loaded loaded) {
    token = loaded.token();
    clockOffset = loaded.clockOffset();
    for (String bad : loaded.unreadable()) {
      getContext().getLog().error("Cron: a stored job cannot be read and is ignored: {}", bad);
    }
    Map<String, StoredJob> byName = new LinkedHashMap<>();
    for (JobDefinition declared : settings.jobs()) {
      byName.put(declared.name(), new StoredJob(declared, false));
    }
    for (StoredJob stored : loaded.stored()) {
      byName.put(stored.definition().name(), stored);
    }
    Instant now = now();
    for (StoredJob stored : byName.values()) {
      JobState s = new JobState(stored.definition(), ++generations, stored.paused());
      s.lastFire = loaded.lastFired().get(s.name());
      jobs.put(s.name(), s);
      if (!s.paused) {
        // From the last recorded instant: everything since is fired or recorded as missed.
        Instant from = loaded.lastRecorded().getOrDefault(s.name(), now);
        queueNext(s, from);
      }
    }
    getContext()
        .getLog()
        .info(
            "Cron: scheduler took over with fencing token {} ({} job(s), database clock offset"
                + " {} ms, {} claim(s) of a previous scheduler left uncertain, {} undelivered"
                + " CATCH_UP claim(s) delivered again)",
            token,
            jobs.size(),
            clockOffset,
            loaded.orphans(),
            loaded.adopted().size());
    redeliver(loaded.adopted());
    if (settings.databaseClock()) {
      timers.startTimerWithFixedDelay(SyncClock.INSTANCE, settings.clockSyncInterval());
    }
    timers.startTimerWithFixedDelay(Maintain.INSTANCE, Duration.ofSeconds(5));
    meters.tookOver(); // before the event: whoever hears of the take-over finds it counted
    publish(SchedulerEvent.Kind.TOOK_OVER, 0);
    getContext().getSelf().tell(Wake.INSTANCE);
    return stash.unstashAll(this);
  }

  /** Delivers the claims adopted from the previous scheduler (CATCH_UP jobs), oldest first. */
  private void redeliver(List<ClaimRequest> adopted) {
    List<Run> runs = new ArrayList<>();
    List<Outcome> closed = new ArrayList<>();
    for (ClaimRequest claim : adopted) {
      JobState s = jobs.get(claim.job());
      Run run =
          s == null || s.paused
              ? null
              : reroute(new Run(s, claim.scheduledAt(), claim.node(), null, null));
      if (run == null) {
        meters.missed(claim.job(), CronMeters.UNDELIVERED);
        closed.add(
            new Outcome(
                claim.job(),
                claim.scheduledAt(),
                claim.node(),
                "missed",
                s == null || s.paused
                    ? "claimed by the previous scheduler, not delivered; the job is paused or gone"
                    : "claimed by the previous scheduler, not delivered; its node has no cron"
                        + " agent any more"));
      } else {
        s.inFlight++;
        runs.add(run);
      }
    }
    recordOutcomes(closed);
    deliver(runs);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Wake.class, msg -> onWake())
        .onMessage(Claimed.class, this::onClaimed)
        .onMessage(ClaimFailed.class, this::onClaimFailed)
        .onMessage(ClaimAgain.class, msg -> claim(msg.runs()))
        .onMessage(Reported.class, this::onReported)
        .onMessage(DeliveryTimedOut.class, this::onDeliveryTimedOut)
        .onMessage(Schedule.class, this::onSchedule)
        .onMessage(Unschedule.class, this::onUnschedule)
        .onMessage(Pause.class, msg -> onPause(msg.name(), true, msg.replyTo()))
        .onMessage(Resume.class, msg -> onPause(msg.name(), false, msg.replyTo()))
        .onMessage(TriggerNow.class, this::onTriggerNow)
        .onMessage(GetJobs.class, this::onGetJobs)
        .onMessage(RunsRead.class, this::onRunsRead)
        .onMessage(Stored.class, this::onStored)
        .onMessage(SyncClock.class, msg -> onSyncClock())
        .onMessage(ClockSynced.class, this::onClockSynced)
        .onMessage(Maintain.class, msg -> onMaintain())
        .onMessage(RecordsWritten.class, this::onRecordsWritten)
        .onSignal(PostStop.class, signal -> onStop())
        .onSignal(PreRestart.class, signal -> onRestart())
        .build();
  }

  private Instant now() {
    return Instant.ofEpochMilli(clock.millis() + clockOffset);
  }

  private long claimAheadMillis() {
    return settings.claimAhead().toMillis();
  }

  // ---------------------------------------------------------------------------------------------
  // The timer and the due instants.

  private void queueNext(JobState s, Instant after) {
    s.next = s.spec.nextAfter(after).orElse(null);
    if (s.next != null) {
      queue.add(new Due(s.next, s.name(), s.generation));
    }
  }

  private boolean isCurrent(Due due) {
    JobState s = jobs.get(due.job());
    return s != null && s.generation == due.generation() && !s.paused && due.at().equals(s.next);
  }

  /** Sets the timer for the earliest queued instant (minus claim-ahead). */
  private void arm() {
    while (!queue.isEmpty() && !isCurrent(queue.peek())) {
      queue.poll();
    }
    Due head = queue.peek();
    Instant wakeAt = head == null ? null : head.at().minusMillis(claimAheadMillis());
    if (wakeAt != null && wakeAt.equals(armedFor)) {
      return;
    }
    if (armed != null) {
      armed.cancel();
      armed = null;
      armedFor = null;
    }
    if (wakeAt != null) {
      ActorRef<Command> self = getContext().getSelf();
      armedFor = wakeAt;
      armed =
          timer.schedule(
              wakeAt.toEpochMilli() - now().toEpochMilli(), () -> self.tell(Wake.INSTANCE));
    }
  }

  private Behavior<Command> onWake() {
    armed = null;
    armedFor = null;
    long now = now().toEpochMilli();
    List<Run> runs = new ArrayList<>();
    List<NotRun> notRun = new ArrayList<>();
    while (!queue.isEmpty() && queue.peek().at().toEpochMilli() - claimAheadMillis() <= now) {
      Due due = queue.poll();
      if (!isCurrent(due)) {
        continue;
      }
      JobState s = jobs.get(due.job());
      FirePolicy.Walk walk =
          FirePolicy.walk(
              s.spec, due.at(), s.definition.misfire(), s.definition.catchUpMillis(), limits, now);
      for (FirePolicy.Step step : walk.steps()) {
        if (step instanceof FirePolicy.Fire) {
          fire(s, step.at(), null, runs, notRun);
        } else if (step instanceof FirePolicy.Miss miss) {
          meters.missed(s.name(), miss.cause());
          notRun.add(new NotRun(s.name(), miss.at(), "*", "missed", miss.reason()));
        }
      }
      s.next = walk.next();
      if (s.next != null) {
        queue.add(new Due(s.next, s.name(), s.generation));
      }
    }
    record(notRun);
    claim(runs);
    arm();
    return this;
  }

  /** Applies the overlap policy and adds the runs of instant {@code t} of {@code s}. */
  private void fire(
      JobState s, Instant t, ActorRef<StatusReply<Done>> ack, List<Run> runs, List<NotRun> notRun) {
    FirePolicy.Overlap overlap =
        FirePolicy.overlap(s.definition.overlap(), s.awaits(), s.inFlight, s.buffered != null);
    if (overlap instanceof FirePolicy.Skip skip) {
      meters.missed(s.name(), skip.cause());
      notRun.add(new NotRun(s.name(), t, "*", "skipped", skip.reason()));
      if (ack != null) {
        ack.tell(StatusReply.error("job [" + s.name() + "] is still running (overlap policy)"));
      }
      return;
    }
    if (overlap instanceof FirePolicy.Buffer) {
      s.buffered = t;
      if (ack != null) {
        ack.tell(StatusReply.ack());
      }
      return;
    }
    Map<String, ActorRef<CronAgent.Command>> byNode = agents.get();
    if (byNode.isEmpty()) {
      meters.missed(s.name(), CronMeters.NO_AGENT);
      notRun.add(new NotRun(s.name(), t, "*", "missed", "no node runs the cron agent"));
      if (ack != null) {
        ack.tell(StatusReply.error("no node runs the cron agent"));
      }
      return;
    }
    if (s.definition.scope() == CronScope.CLUSTER) {
      String owner = owner(s.name(), byNode);
      runs.add(new Run(s, t, "*", byNode.get(owner), ack));
      s.inFlight++;
    } else {
      boolean first = true;
      for (Map.Entry<String, ActorRef<CronAgent.Command>> agent : byNode.entrySet()) {
        runs.add(new Run(s, t, agent.getKey(), agent.getValue(), first ? ack : null));
        s.inFlight++;
        first = false;
      }
    }
  }

  /** The ring owner of {@code job} among the nodes with a cron agent. */
  private String owner(String job, Map<String, ActorRef<CronAgent.Command>> byNode) {
    List<String> members = byNode.keySet().stream().sorted().toList();
    if (!members.equals(ringMembers)) {
      ringMembers = members;
      ring = HashRing.of(members);
    }
    return ring.pick(job);
  }

  // ---------------------------------------------------------------------------------------------
  // Claims and deliveries.

  private Behavior<Command> claim(List<Run> runs) {
    if (runs.isEmpty()) {
      return this;
    }
    if (claiming) {
      // One claim transaction at a time: claims complete, and ticks go out, in the order the
      // instants were walked (a take-over's backlog before the next on-time instant).
      waitingClaims.addAll(runs);
      return this;
    }
    if (!leased.getAsBoolean()) {
      // This node no longer trusts the scheduler lease: a successor may be taking over. Claim
      // nothing; Pekko stops this scheduler once the loss is noticed (or the trust comes back).
      return onClaimFailed(
          new ClaimFailed(
              runs, new IllegalStateException("this node does not trust the scheduler lease")));
    }
    publish(SchedulerEvent.Kind.CLAIMING, runs.size());
    List<ClaimRequest> requests =
        runs.stream().map(r -> new ClaimRequest(r.job().name(), r.at(), r.node())).toList();
    Long margin =
        settings.databaseClock()
            ? settings.claimAhead().plus(settings.clockTolerance()).toMillis()
            : null;
    long claimToken = token;
    claiming = true;
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> store.claim(requests, claimToken, margin), blocking),
            (claims, failure) ->
                failure == null ? new Claimed(runs, claims) : new ClaimFailed(runs, failure));
    return this;
  }

  /** The claim in flight finished: the next waiting runs, if any, are claimed now. */
  private void claimWaiting() {
    claiming = false;
    if (!waitingClaims.isEmpty()) {
      List<Run> next = new ArrayList<>(waitingClaims);
      waitingClaims.clear();
      claim(next);
    }
  }

  private Behavior<Command> onClaimed(Claimed msg) {
    List<Run> early = new ArrayList<>();
    List<Run> claimed = new ArrayList<>();
    for (int i = 0; i < msg.runs().size(); i++) {
      Run run = msg.runs().get(i);
      switch (msg.claims().get(i)) {
        case CLAIMED -> {
          meters.claimed(run.job().name());
          claimed.add(run);
        }
        case TAKEN -> {
          runEnded(run.job());
          if (run.ack() != null) {
            run.ack().tell(StatusReply.error("instant " + run.at() + " was already claimed"));
          }
        }
        case EARLY -> {
          runEnded(run.job());
          early.add(run);
        }
        case STALE -> throw new StaleTokenException(store.tokenName(), token, -1);
      }
    }
    deliver(claimed);
    if (!early.isEmpty()) {
      getContext()
          .getLog()
          .warn(
              "Cron: the database refused {} claim(s) as early; the clock offset is measured"
                  + " again",
              early.size());
      getContext().getSelf().tell(SyncClock.INSTANCE);
      early.forEach(r -> r.job().inFlight++);
      timers.startSingleTimer(
          "early-" + early.get(0).key(), new ClaimAgain(early), Duration.ofMillis(100));
    }
    claimWaiting();
    return this;
  }

  /**
   * Hands the claimed ticks to their nodes' agents at once, one DeliverAll per node and instant;
   * each agent sends them at their instant on its own timer.
   */
  private void deliver(List<Run> claimed) {
    Map<ActorRef<CronAgent.Command>, Map<Instant, List<CronAgent.Deliver>>> groups =
        new LinkedHashMap<>();
    long now = now().toEpochMilli();
    for (Run run : claimed) {
      JobDefinition d = run.job().definition;
      String key = run.key();
      pending.put(key, run);
      timers.startSingleTimer(
          key,
          new DeliveryTimedOut(key),
          Duration.ofMillis(
              Math.max(0, run.at().toEpochMilli() - now)
                  + d.jitterMillis()
                  + d.awaitMillis()
                  + settings.deliveryTimeout().toMillis()));
      groups
          .computeIfAbsent(run.agent(), a -> new LinkedHashMap<>())
          .computeIfAbsent(run.at(), t -> new ArrayList<>())
          .add(
              new CronAgent.Deliver(
                  d.name(),
                  run.at().toEpochMilli(),
                  token,
                  key,
                  d.target(),
                  d.targetGroup(),
                  d.scope(),
                  d.awaitMillis(),
                  d.jitterMillis(),
                  d.misfire() == MisfirePolicy.CATCH_UP));
      if (run.ack() != null) {
        run.ack().tell(StatusReply.ack());
      }
    }
    long threshold = settings.misfireThreshold().toMillis();
    groups.forEach(
        (agent, byInstant) ->
            byInstant.forEach(
                (at, deliveries) ->
                    agent.tell(
                        new CronAgent.DeliverAll(
                            deliveries,
                            at.toEpochMilli(),
                            Math.max(at.toEpochMilli(), now) + threshold,
                            reports))));
  }

  private Behavior<Command> onClaimFailed(ClaimFailed msg) {
    getContext()
        .getLog()
        .warn(
            "Cron: claiming {} instant(s) failed, retrying: {}",
            msg.runs().size(),
            msg.cause().getMessage());
    long now = now().toEpochMilli();
    List<Run> again = new ArrayList<>();
    List<NotRun> missed = new ArrayList<>();
    for (Run run : msg.runs()) {
      runEnded(run.job());
      JobDefinition d = run.job().definition;
      long window = FirePolicy.retryWindowMillis(d.misfire(), d.catchUpMillis(), limits);
      if (run.ack() != null) {
        run.ack().tell(StatusReply.error("the claim failed: " + msg.cause().getMessage()));
      }
      if (now - run.at().toEpochMilli() <= window && jobs.get(d.name()) == run.job()) {
        run.job().inFlight++;
        again.add(new Run(run.job(), run.at(), run.node(), run.agent(), null));
      } else {
        meters.missed(d.name(), CronMeters.CLAIM_FAILED);
        missed.add(
            new NotRun(
                d.name(),
                run.at(),
                run.node(),
                "missed",
                "it could not be claimed in time: " + msg.cause().getMessage()));
      }
    }
    record(missed);
    if (!again.isEmpty()) {
      timers.startSingleTimer(
          "retry-" + again.get(0).key(), new ClaimAgain(again), Duration.ofSeconds(1));
    }
    claimWaiting();
    return this;
  }

  private Behavior<Command> onReported(Reported msg) {
    List<Outcome> outcomes = new ArrayList<>();
    List<JobState> ended = new ArrayList<>();
    for (CronAgent.Delivered d : msg.reports().reports()) {
      String key = idempotencyKey(d.job(), Instant.ofEpochMilli(d.scheduledAtMillis()), d.node());
      Run run = pending.remove(key);
      if (run == null) {
        // Late: the run timed out (recorded as failed, or delivered again). The agent knows
        // better: its outcome replaces the guess.
        if (!"already".equals(d.outcome())) {
          outcomes.add(
              new Outcome(
                  d.job(),
                  Instant.ofEpochMilli(d.scheduledAtMillis()),
                  d.node(),
                  d.outcome(),
                  d.detail()));
        }
        continue;
      }
      timers.cancel(key);
      if ("already".equals(d.outcome())) {
        ended.add(run.job()); // an earlier delivery of this claim went out and records itself
        continue;
      }
      if (!"failed".equals(d.outcome())
          && (run.job().lastFire == null || run.job().lastFire.isBefore(run.at()))) {
        run.job().lastFire = run.at();
      }
      outcomes.add(new Outcome(run.job().name(), run.at(), run.node(), d.outcome(), d.detail()));
      ended.add(run.job());
    }
    recordOutcomes(outcomes);
    ended.forEach(this::runEnded);
    return this;
  }

  private Behavior<Command> onDeliveryTimedOut(DeliveryTimedOut msg) {
    Run run = pending.remove(msg.key());
    JobDefinition d = run == null ? null : run.job().definition;
    if (d != null
        && d.misfire() == MisfirePolicy.CATCH_UP
        && jobs.get(d.name()) == run.job()
        && now().toEpochMilli() - run.at().toEpochMilli() <= d.catchUpMillis()) {
      // No report: the agent's node may be gone. Deliver again, through the current owner; the
      // agents' mark in the database lets only one of the deliveries through.
      Run again = reroute(run);
      if (again != null) {
        try (var log = CronLogs.about(d.name(), run.at())) {
          getContext()
              .getLog()
              .info("Cron: no report for [{}] at {}: delivering it again", d.name(), run.at());
        }
        deliver(List.of(again));
        return this;
      }
    }
    if (run != null) {
      meters.fired(run.job().name(), CronMeters.UNREPORTED);
      recordOutcome(
          run,
          "failed",
          "no report from the cron agent of "
              + (run.node().equals("*") ? "the owner node" : run.node())
              + " in time (node down or unreachable?)");
      runEnded(run.job());
    }
    return this;
  }

  /**
   * The run of {@code run}'s claim through the agent that delivers it now: the ring owner's for a
   * CLUSTER job, the node's own for a NODE job; null if that node has no agent any more.
   */
  private Run reroute(Run run) {
    Map<String, ActorRef<CronAgent.Command>> byNode = agents.get();
    if (byNode.isEmpty()) {
      return null;
    }
    if (run.node().equals("*")) {
      return new Run(run.job(), run.at(), "*", byNode.get(owner(run.job().name(), byNode)), null);
    }
    ActorRef<CronAgent.Command> agent = byNode.get(run.node());
    return agent == null ? null : new Run(run.job(), run.at(), run.node(), agent, null);
  }

  private void recordOutcome(Run run, String outcome, String detail) {
    recordOutcomes(List.of(new Outcome(run.job().name(), run.at(), run.node(), outcome, detail)));
  }

  private void recordOutcomes(List<Outcome> outcomes) {
    if (outcomes.isEmpty()) {
      return;
    }
    CompletableFuture.runAsync(() -> store.outcomes(outcomes), blocking)
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                system
                    .log()
                    .warn(
                        "Cron: could not record {} outcome(s) (first: [{}] at {}): {}",
                        outcomes.size(),
                        outcomes.get(0).job(),
                        outcomes.get(0).scheduledAt(),
                        failure.getMessage());
              }
            });
  }

  /** A run of {@code s} ended (or never started): fires the buffered instant if there is one. */
  private void runEnded(JobState s) {
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (s.inFlight == 0 && s.buffered != null && jobs.get(s.name()) == s) {
      Instant t = s.buffered;
      s.buffered = null;
      List<Run> runs = new ArrayList<>();
      List<NotRun> notRun = new ArrayList<>();
      fire(s, t, null, runs, notRun);
      record(notRun);
      claim(runs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // History rows of runs that did not happen; kept in memory while the database is away.

  private void record(List<NotRun> rows) {
    if (rows.isEmpty()) {
      return;
    }
    long writeToken = token;
    getContext()
        .pipeToSelf(
            CompletableFuture.runAsync(() -> store.notRun(rows, writeToken), blocking),
            (ok, failure) -> new RecordsWritten(rows, failure));
  }

  private Behavior<Command> onRecordsWritten(RecordsWritten msg) {
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "Cron: {} history row(s) not written yet, retrying: {}",
              msg.rows().size(),
              msg.failure().getMessage());
      int room = 100_000 - unwritten.size();
      unwritten.addAll(msg.rows().subList(0, Math.min(room, msg.rows().size())));
    }
    return this;
  }

  private Behavior<Command> onMaintain() {
    if (!unwritten.isEmpty()) {
      List<NotRun> rows = List.copyOf(unwritten);
      unwritten.clear();
      record(rows);
    }
    arm(); // after a long stall of the timer thread, or a clock step
    return this;
  }

  private Behavior<Command> onSyncClock() {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(this::measureOffset, blocking),
            (offset, failure) -> new ClockSynced(failure == null ? offset : clockOffset));
    return this;
  }

  private Behavior<Command> onClockSynced(ClockSynced msg) {
    if (Math.abs(msg.offset() - clockOffset) > 5) {
      getContext()
          .getLog()
          .info("Cron: database clock offset {} ms (was {} ms)", msg.offset(), clockOffset);
      clockOffset = msg.offset();
      armedFor = null;
      arm();
    }
    return this;
  }

  private Behavior<Command> onRestart() {
    meters.stoppedScheduling(); // until the restarted scheduler has taken over again
    return this;
  }

  private Behavior<Command> onStop() {
    if (token != 0) {
      meters.stoppedScheduling();
    }
    if (armed != null) {
      armed.cancel();
    }
    if (token != 0) {
      publish(SchedulerEvent.Kind.STOPPED, 0);
    }
    return this;
  }

  private void publish(SchedulerEvent.Kind kind, int instants) {
    system
        .eventStream()
        .tell(
            new EventStream.Publish<>(
                new SchedulerEvent(kind, token, Instant.ofEpochMilli(clock.millis()), instants)));
  }

  // ---------------------------------------------------------------------------------------------
  // Requests.

  private Behavior<Command> onSchedule(Schedule msg) {
    JobDefinition definition;
    try {
      definition = msg.definition().validated();
    } catch (IllegalArgumentException | NullPointerException e) {
      msg.replyTo().tell(StatusReply.error(e.getMessage()));
      return this;
    }
    store(
        () -> store.saveJob(definition, false),
        () -> {
          JobState s = new JobState(definition, ++generations, false);
          JobState old = jobs.put(definition.name(), s);
          if (old != null) {
            s.lastFire = old.lastFire;
            s.inFlight = old.inFlight;
          }
          queueNext(s, now());
          arm();
        },
        msg.replyTo());
    return this;
  }

  private Behavior<Command> onUnschedule(Unschedule msg) {
    if (!jobs.containsKey(msg.name())) {
      msg.replyTo().tell(StatusReply.error("no cron job named [" + msg.name() + "]"));
      return this;
    }
    String name = msg.name();
    store(
        () -> store.deleteJob(name),
        () -> {
          jobs.remove(name);
          arm();
        },
        msg.replyTo());
    return this;
  }

  private Behavior<Command> onPause(String name, boolean pause, ActorRef<StatusReply<Done>> reply) {
    JobState current = jobs.get(name);
    if (current == null) {
      reply.tell(StatusReply.error("no cron job named [" + name + "]"));
      return this;
    }
    JobDefinition definition = current.definition;
    store(
        () -> store.saveJob(definition, pause),
        () -> {
          JobState old = jobs.get(name);
          if (old == null) {
            return;
          }
          JobState s = new JobState(old.definition, ++generations, pause);
          s.lastFire = old.lastFire;
          s.inFlight = old.inFlight;
          jobs.put(name, s);
          if (!pause) {
            queueNext(s, now());
          }
          arm();
        },
        reply);
    return this;
  }

  private void store(Runnable write, Runnable apply, ActorRef<StatusReply<Done>> replyTo) {
    getContext()
        .pipeToSelf(
            CompletableFuture.runAsync(write, blocking),
            (ok, failure) -> new Stored(apply, replyTo, failure));
  }

  private Behavior<Command> onStored(Stored msg) {
    if (msg.failure() != null) {
      msg.replyTo().tell(StatusReply.error(msg.failure().getMessage()));
    } else {
      msg.apply().run();
      msg.replyTo().tell(StatusReply.ack());
    }
    return this;
  }

  private Behavior<Command> onTriggerNow(TriggerNow msg) {
    JobState s = jobs.get(msg.name());
    if (s == null) {
      msg.replyTo().tell(StatusReply.error("no cron job named [" + msg.name() + "]"));
      return this;
    }
    List<Run> runs = new ArrayList<>();
    List<NotRun> notRun = new ArrayList<>();
    fire(s, now(), msg.replyTo(), runs, notRun);
    record(notRun);
    return claim(runs);
  }

  private Behavior<Command> onGetJobs(GetJobs msg) {
    int limit = settings.historySize();
    List<String> names = List.copyOf(jobs.keySet());
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(() -> store.recentRuns(names, limit), blocking),
            (runs, failure) -> new RunsRead(runs, msg.replyTo(), failure));
    return this;
  }

  private Behavior<Command> onRunsRead(RunsRead msg) {
    if (msg.failure() != null) {
      msg.replyTo()
          .tell(StatusReply.error("cannot read the history: " + msg.failure().getMessage()));
      return this;
    }
    Map<String, ActorRef<CronAgent.Command>> byNode = agents.get();
    List<JobView> views = new ArrayList<>();
    for (JobState s : jobs.values()) {
      String owner =
          s.definition.scope() == CronScope.CLUSTER && !byNode.isEmpty()
              ? owner(s.name(), byNode)
              : null;
      views.add(
          new JobView(
              s.name(),
              s.definition.spec(),
              s.definition.zone(),
              s.paused || s.next == null ? null : s.next.toEpochMilli(),
              s.lastFire == null ? null : s.lastFire.toEpochMilli(),
              owner,
              s.paused,
              msg.runs().getOrDefault(s.name(), List.of())));
    }
    msg.replyTo().tell(StatusReply.success(new JobViews(views)));
    return this;
  }
}
