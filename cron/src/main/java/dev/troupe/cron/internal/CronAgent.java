package dev.troupe.cron.internal;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.CronDone;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.CronTick;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * INTERNAL API. Delivers claimed ticks to their targets on this node ({@code
 * /system/troupeCronAgent}), at their instants: a CLUSTER job's ticks on its ring owner, a NODE
 * job's on every node.
 */
public final class CronAgent extends AbstractBehavior<CronAgent.Command> {
  /*
   * The scheduler sends a DeliverAll per node and instant as soon as the instants are claimed (a
   * claim-ahead before they are due); the agent holds it on its own timer until the instant, by
   * the database clock (this node's offset to it, measured every clock-sync-interval), so that the
   * remote hop is not part of the lateness. A DeliverAll that the agent can only send after its
   * notAfter (this JVM stalled) is reported as missed, not sent late.
   *
   * A Deliver names the job's target: an address-book name, or a worker group of CronTick
   * receivers (CLUSTER: a member of this node if there is one, else any picked one; NODE: every
   * member of this node). With a jitter the send waits a random time first. Without
   * awaitCompletion the agent reports "delivered" at once; with it, the ticks carry a replyTo and
   * the agent reports "completed" when every recipient sent CronDone(success), "failed" on a
   * CronDone(false) or when the timeout passes.
   */

  /** The protocol of the cron agent. */
  public sealed interface Command {}

  /**
   * One claimed tick. With {@code confirm} (CATCH_UP jobs) the agent marks the claim delivered in
   * the database before it sends the tick, and sends nothing if it was marked before (reported as
   * {@code already}): the claim may be delivered again after a scheduler failover.
   */
  public record Deliver(
      String job,
      long scheduledAtMillis,
      long token,
      String key,
      String target,
      String targetGroup,
      CronScope scope,
      long awaitMillis,
      long jitterMillis,
      boolean confirm)
      implements TroupeSerializable {}

  /**
   * The claimed ticks of one instant for this node: sent once they are claimed, delivered at {@code
   * atMillis} (database clock), reported as missed if that can only happen after {@code
   * notAfterMillis}.
   */
  public record DeliverAll(
      List<Deliver> deliveries, long atMillis, long notAfterMillis, ActorRef<Reports> replyTo)
      implements Command, TroupeSerializable {}

  /**
   * How a delivery went: delivered, completed, failed, missed, or already (a confirmed delivery
   * that another delivery of the same claim preceded).
   */
  public record Delivered(
      String job, long scheduledAtMillis, String node, String outcome, String detail)
      implements TroupeSerializable {}

  /** Delivery reports, batched like the deliveries. */
  public record Reports(List<Delivered> reports) implements TroupeSerializable {}

  /** Where the ticks go on this node; the production one reads the node's registry. */
  public interface Recipients {
    /** This node's address. */
    String self();

    /** The actor registered under {@code name} in the address book, if any. */
    Optional<ActorRef<CronTick>> named(String name);

    /** The active members of worker group {@code group} on this node. */
    List<ActorRef<CronTick>> localMembers(String group);

    /** An active member of {@code group} anywhere, if any. */
    Optional<ActorRef<CronTick>> pick(String group);

    /** The recipients of {@code node}. */
    static Recipients of(TroupeNode node) {
      return new Recipients() {
        @Override
        public String self() {
          return node.address().toString();
        }

        @Override
        public Optional<ActorRef<CronTick>> named(String name) {
          return node.addressBook().lookup(name, CronTick.class);
        }

        @Override
        public List<ActorRef<CronTick>> localMembers(String group) {
          Address self = node.address();
          List<ActorRef<CronTick>> local = new ArrayList<>();
          for (WorkerEntry<CronTick> e :
              node.registry().workers(WorkerGroup.of(group, CronTick.class))) {
            if (e.node().equals(self) && e.isActive()) {
              local.add(e.ref());
            }
          }
          return local;
        }

        @Override
        public Optional<ActorRef<CronTick>> pick(String group) {
          return node.registry().pick(WorkerGroup.of(group, CronTick.class));
        }
      };
    }
  }

  private record Due(DeliverAll all) implements Command {}

  private record Send(Deliver deliver, ActorRef<Reports> replyTo) implements Command {}

  private record Finished(CronDone done) implements Command {}

  private record Marked(List<Send> sends, List<Boolean> first, Throwable failure)
      implements Command {}

  private record TimedOut(String key) implements Command {}

  private enum SyncClock implements Command {
    INSTANCE
  }

  private record ClockSynced(long offset) implements Command {}

  /** A delivery waiting for its recipients' CronDone. */
  private static final class Awaiting {
    final Deliver deliver;
    final ActorRef<Reports> replyTo;
    int remaining;
    boolean failed;

    Awaiting(Deliver deliver, ActorRef<Reports> replyTo, int remaining) {
      this.deliver = deliver;
      this.replyTo = replyTo;
      this.remaining = remaining;
    }
  }

  private final Recipients recipients;
  private final CronStore store; // null: the local clock is the clock
  private final CronTimer timer;
  private final Clock clock;
  private final TimerScheduler<Command> timers;
  private final ActorRef<CronDone> doneAdapter;
  private final CronMeters meters;
  private final Map<String, Awaiting> awaiting = new HashMap<>();
  // batches of CATCH_UP ticks waiting for (or in) their mark in the database, in arrival order
  private final java.util.ArrayDeque<List<Send>> confirming = new java.util.ArrayDeque<>();
  private List<Delivered> batch; // the reports of the DeliverAll being handled, else null
  private Map<String, List<ActorRef<CronTick>>> members; // its groups' local members, else null
  private long offset; // database clock minus the local clock, ms

  private CronAgent(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Recipients recipients,
      CronStore store,
      CronTimer timer,
      Clock clock,
      Duration clockSyncInterval,
      CronMeters meters) {
    super(ctx);
    this.meters = meters;
    this.recipients = recipients;
    this.store = store;
    this.timer = timer;
    this.clock = clock;
    this.timers = timers;
    this.doneAdapter = ctx.messageAdapter(CronDone.class, Finished::new);
    if (store != null) {
      ctx.getSelf().tell(SyncClock.INSTANCE);
      timers.startTimerWithFixedDelay(SyncClock.INSTANCE, clockSyncInterval);
    }
  }

  /**
   * An agent.
   *
   * @param store reads the database clock every {@code clockSyncInterval}; null: the local clock
   *     judges the instants
   * @param timer holds the deliveries until their instants
   */
  public static Behavior<Command> create(
      Recipients recipients,
      CronStore store,
      CronTimer timer,
      Clock clock,
      Duration clockSyncInterval) {
    return create(recipients, store, timer, clock, clockSyncInterval, CronMeters.none());
  }

  /** An agent that records its fires, their lateness and its stalls on {@code meters}. */
  public static Behavior<Command> create(
      Recipients recipients,
      CronStore store,
      CronTimer timer,
      Clock clock,
      Duration clockSyncInterval,
      CronMeters meters) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new CronAgent(
                        ctx, timers, recipients, store, timer, clock, clockSyncInterval, meters)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(DeliverAll.class, this::onDeliverAll)
        .onMessage(Due.class, msg -> deliverAll(msg.all()))
        .onMessage(Send.class, msg -> send(msg.deliver(), msg.replyTo()))
        .onMessage(Marked.class, this::onMarked)
        .onMessage(Finished.class, this::onFinished)
        .onMessage(TimedOut.class, this::onTimedOut)
        .onMessageEquals(SyncClock.INSTANCE, this::onSyncClock)
        .onMessage(
            ClockSynced.class,
            msg -> {
              offset = msg.offset();
              return this;
            })
        .build();
  }

  private long now() {
    return clock.millis() + offset;
  }

  private Behavior<Command> onSyncClock() {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> store.clockOffset(clock),
                getContext().getSystem().dispatchers().lookup(DispatcherSelector.blocking())),
            (measured, failure) -> new ClockSynced(failure == null ? measured : offset));
    return this;
  }

  private Behavior<Command> onDeliverAll(DeliverAll all) {
    long delay = all.atMillis() - now();
    if (delay <= 0) {
      return deliverAll(all);
    }
    ActorRef<Command> self = getContext().getSelf();
    timer.schedule(delay, () -> self.tell(new Due(all)));
    return this;
  }

  private Behavior<Command> deliverAll(DeliverAll all) {
    batch = new ArrayList<>();
    members = new HashMap<>();
    List<Send> marks = new ArrayList<>();
    try {
      long late = now() - all.atMillis();
      boolean stalled = now() > all.notAfterMillis();
      for (Deliver d : all.deliveries()) {
        if (stalled) {
          report(
              d,
              all.replyTo(),
              "missed",
              "the tick could only leave "
                  + Duration.ofMillis(late)
                  + " late (this node or its scheduler stalled), so it was not sent");
        } else if (d.jitterMillis() > 0) {
          long jitter = ThreadLocalRandom.current().nextLong(d.jitterMillis() + 1);
          timers.startSingleTimer(
              "jitter-" + d.key(), new Send(d, all.replyTo()), Duration.ofMillis(jitter));
        } else if (d.confirm() && store != null) {
          marks.add(new Send(d, all.replyTo()));
        } else {
          send(d, all.replyTo());
        }
      }
      confirm(marks);
    } finally {
      List<Delivered> reports = batch;
      batch = null;
      members = null;
      if (!reports.isEmpty()) {
        all.replyTo().tell(new Reports(reports));
      }
    }
    return this;
  }

  private Behavior<Command> send(Deliver deliver, ActorRef<Reports> replyTo) {
    if (deliver.confirm() && store != null) {
      confirm(List.of(new Send(deliver, replyTo)));
      return this;
    }
    return sendNow(deliver, replyTo);
  }

  /**
   * Queues CATCH_UP ticks for their mark: one batch (the ticks of one DeliverAll: one transaction,
   * one round trip) at a time, in arrival order, so that the ticks of a job leave in the order of
   * its instants, also when a successor scheduler delivers a backlog, and a node that dies between
   * a mark and its ticks loses as little as possible.
   */
  private void confirm(List<Send> sends) {
    if (sends.isEmpty()) {
      return;
    }
    confirming.add(sends);
    if (confirming.size() == 1) {
      markNext();
    }
  }

  private void markNext() {
    List<Send> next = confirming.peek();
    if (next == null) {
      return;
    }
    List<CronStore.ClaimRequest> claims = new ArrayList<>(next.size());
    for (Send send : next) {
      Deliver d = send.deliver();
      claims.add(
          new CronStore.ClaimRequest(
              d.job(),
              Instant.ofEpochMilli(d.scheduledAtMillis()),
              d.scope() == CronScope.NODE ? recipients.self() : "*"));
    }
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> store.markDelivering(claims),
                getContext().getSystem().dispatchers().lookup(DispatcherSelector.blocking())),
            (first, failure) -> new Marked(next, first, failure));
  }

  private Behavior<Command> onMarked(Marked msg) {
    confirming.poll();
    // The ticks of a batch have one sender (the DeliverAll's): their reports go in one message.
    batch = new ArrayList<>();
    members = new HashMap<>();
    try {
      for (int i = 0; i < msg.sends().size(); i++) {
        Send send = msg.sends().get(i);
        if (msg.failure() != null) {
          report(
              send.deliver(),
              send.replyTo(),
              "failed",
              "could not mark the tick delivered, so it was not sent: "
                  + msg.failure().getMessage());
        } else if (!msg.first().get(i)) {
          report(
              send.deliver(),
              send.replyTo(),
              "already",
              "another delivery of this claim went out first; not sent again");
        } else {
          sendNow(send.deliver(), send.replyTo());
        }
      }
    } finally {
      List<Delivered> reports = batch;
      batch = null;
      members = null;
      if (!reports.isEmpty()) {
        msg.sends().get(0).replyTo().tell(new Reports(reports));
      }
    }
    markNext();
    return this;
  }

  private Behavior<Command> sendNow(Deliver deliver, ActorRef<Reports> replyTo) {
    List<ActorRef<CronTick>> to = recipients(deliver);
    if (to.isEmpty()) {
      report(
          deliver,
          replyTo,
          "failed",
          deliver.target() != null
              ? "no actor is named [" + deliver.target() + "] in the address book"
              : "group ["
                  + deliver.targetGroup()
                  + "] has no member"
                  + (deliver.scope() == CronScope.NODE ? " on this node" : ""));
      return this;
    }
    meters.late(deliver.job(), now() - deliver.scheduledAtMillis());
    boolean await = deliver.awaitMillis() > 0;
    CronTick tick =
        new CronTick(
            deliver.job(),
            Instant.ofEpochMilli(deliver.scheduledAtMillis()),
            deliver.token(),
            deliver.key(),
            await ? Optional.of(doneAdapter) : Optional.empty());
    to.forEach(r -> r.tell(tick));
    if (await) {
      awaiting.put(deliver.key(), new Awaiting(deliver, replyTo, to.size()));
      timers.startSingleTimer(
          "await-" + deliver.key(),
          new TimedOut(deliver.key()),
          Duration.ofMillis(deliver.awaitMillis()));
    } else {
      report(
          deliver, replyTo, "delivered", recipients.self() + " -> " + to.size() + " recipient(s)");
    }
    return this;
  }

  private List<ActorRef<CronTick>> recipients(Deliver deliver) {
    if (deliver.target() != null) {
      return recipients.named(deliver.target()).stream().toList();
    }
    String group = deliver.targetGroup();
    List<ActorRef<CronTick>> local =
        members == null
            ? recipients.localMembers(group)
            : members.computeIfAbsent(group, recipients::localMembers);
    if (deliver.scope() == CronScope.NODE) {
      return local;
    }
    if (!local.isEmpty()) {
      return List.of(local.get(ThreadLocalRandom.current().nextInt(local.size())));
    }
    return recipients.pick(group).stream().toList();
  }

  private Behavior<Command> onFinished(Finished msg) {
    Awaiting waiting = awaiting.get(msg.done().idempotencyKey());
    if (waiting == null) {
      return this;
    }
    waiting.remaining--;
    waiting.failed |= !msg.done().success();
    if (waiting.remaining <= 0) {
      awaiting.remove(msg.done().idempotencyKey());
      timers.cancel("await-" + msg.done().idempotencyKey());
      report(
          waiting.deliver,
          waiting.replyTo,
          waiting.failed ? "failed" : "completed",
          waiting.failed ? "the target reported a failure" : recipients.self());
    }
    return this;
  }

  private Behavior<Command> onTimedOut(TimedOut msg) {
    Awaiting waiting = awaiting.remove(msg.key());
    if (waiting != null) {
      report(
          waiting.deliver,
          waiting.replyTo,
          "failed",
          "no CronDone within " + Duration.ofMillis(waiting.deliver.awaitMillis()));
    }
    return this;
  }

  private void report(Deliver deliver, ActorRef<Reports> replyTo, String outcome, String detail) {
    meters.fired(deliver.job(), outcome);
    if ("missed".equals(outcome)) {
      meters.missed(deliver.job(), CronMeters.STALLED);
    }
    if ("missed".equals(outcome) || "failed".equals(outcome)) {
      Instant at = Instant.ofEpochMilli(deliver.scheduledAtMillis());
      try (var log = CronLogs.about(deliver.job(), at)) {
        getContext().getLog().warn("Cron: [{}] at {} {}: {}", deliver.job(), at, outcome, detail);
      }
    }
    Delivered report =
        new Delivered(
            deliver.job(),
            deliver.scheduledAtMillis(),
            deliver.scope() == CronScope.NODE ? recipients.self() : "*",
            outcome,
            detail);
    if (batch != null) { // every delivery of a DeliverAll has the same replyTo
      batch.add(report);
    } else {
      replyTo.tell(new Reports(List.of(report)));
    }
  }
}
