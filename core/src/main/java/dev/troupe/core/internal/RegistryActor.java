package dev.troupe.core.internal;

import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/** INTERNAL API. Keeps this node's view of the worker registry; see the design notes. */
public final class RegistryActor extends AbstractBehavior<RegistryActor.Command> {
  /*
   * Design notes.
   *
   * Erlang pg's design on Pekko remoting (OwnedReplicas, shared with the address book): each
   * node owns the registrations of its own workers and sends their changes straight to the
   * registry actor of every other node, batched; a node that connects gets a full copy; a removed
   * node's registrations are dropped by every node at once. Neither the Pekko receptionist nor
   * Distributed Data is involved: both re-send and re-diff whole replicated keys per change, which
   * made a burst of registrations quadratic in its size.
   *
   * Batching: commands change the core's state and ask for a Batch (a message to self, so it runs
   * after the messages already in the mailbox). The batch sends the changes (one message per peer
   * per chunk), brings the order of each changed group up to date with what changed in it
   * (GroupOrder: added entries merged in, removed ones found by binary search; no re-read or
   * re-sort of the group), copies it into the group's new view, and answers the commands, so the
   * registering node's reads show a registration when register completes. Rebuilding for other
   * nodes' changes is paced: after a rebuild that took t, the next one waits at least t, so during a
   * burst at most half of the actor's time goes to views and the rest to taking messages. A batch
   * with commands of this node rebuilds at once: their callers wait for it, and while it runs the
   * next commands queue up, so batches grow with the rebuild's cost by themselves.
   *
   * Reachability: a worker on an unreachable node stays in allWorkers() and leaves workers() and
   * pick() until its node is reachable again or removed (Member events).
   *
   * Drain waits for the acknowledgements (OwnedReplicas Ack) of every reachable peer, or
   * write-timeout, before it completes.
   */

  /** The protocol of the registry actor. */
  public interface Command {}

  /** Registers a local worker. */
  public record Register(
      String group, String protocol, ActorRef<Object> worker, CompletableFuture<Done> reply)
      implements Command {}

  /** Unregisters a local worker. */
  public record Unregister(String group, ActorRef<Object> worker, CompletableFuture<Done> reply)
      implements Command {}

  /** Marks a local worker DRAINING. */
  public record Drain(String group, ActorRef<Object> worker, CompletableFuture<Done> reply)
      implements Command {}

  /** Marks every local worker DRAINING; replies when the peers acknowledged it or timed out. */
  public record DrainAll(ActorRef<Done> replyTo) implements Command {}

  /** Adds a subscriber (on the actor, so it sees its lists in order). */
  public record AddSubscriber(RegistryViews.Subscriber subscriber) implements Command {}

  /** Drops closed subscribers. */
  public enum RemoveClosedSubscribers implements Command {
    INSTANCE
  }

  /** Ends the subscriptions of an actor to one group and protocol. */
  public record RemoveSubscriber(String group, String protocol, ActorRef<Object> owner)
      implements Command {}

  /** A watched actor (a worker, a subscriber or both) stopped. */
  private record Stopped(ActorRef<Object> ref) implements Command {}

  private enum Batch implements Command {
    INSTANCE
  }

  /** What a drain waits for: each node's acknowledgement of a seq, until a deadline. */
  private record AckWait(Map<String, Long> seqs, long deadlineNanos, Runnable then) {}

  private final RegistryViews views;
  private final RegistrySettings settings;
  private final Clock clock;
  private final PeerLink<Command> link;
  private final OwnedReplicas core;
  private final OwnedReplicas.Outbox outbox;
  private final RemoteRefs remoteRefs;
  private final Executor executor;
  private final PublishPacer<Command> pacer;
  private final ReplicaMeters meters;

  // worker -> group -> its entry path; the path of each worker
  private final Map<ActorRef<Object>, Set<String>> groupsOfWorker = new HashMap<>();
  private final Map<ActorRef<Object>, String> pathOf = new HashMap<>();
  // subscriber actor -> its subscriptions; the actor is watched once, also when it is a worker
  private final Map<ActorRef<Object>, List<RegistryViews.Subscriber>> subscribersOf =
      new HashMap<>();
  private final Map<String, Address> addresses = new HashMap<>();
  private final Map<String, GroupOrder> orders = new HashMap<>(); // group -> its members, ordered
  private final Address self;
  private final List<Runnable> afterFlush = new ArrayList<>();
  private final List<AckWait> ackWaits = new ArrayList<>();
  // Instants shared by entries of the same millisecond (a burst has many per millisecond), by the
  // millisecond's low bits: views are made in no particular time order.
  private final Instant[] instants = new Instant[4096];

  private RegistryActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      RegistryViews views,
      RegistrySettings settings,
      Clock clock,
      FirstView firstView,
      ReplicaMeters meters) {
    super(ctx);
    this.meters = meters;
    this.views = views;
    this.settings = settings;
    this.clock = clock;
    this.link =
        new PeerLink<>(ctx, timers, settings.replication(), this::onPeerMessage, firstView, meters);
    this.self = link.selfAddress();
    this.core = link.core();
    this.outbox = link.outbox();
    this.executor = ctx.getExecutionContext();
    this.pacer = new PublishPacer<>(timers, ctx.getSelf(), Batch.INSTANCE, executor);
    this.remoteRefs = new RemoteRefs(ctx.getSystem());
  }

  /** The registry actor, publishing into {@code views}, recording on {@code meters}. */
  public static Behavior<Command> create(
      RegistryViews views,
      RegistrySettings settings,
      Clock clock,
      FirstView firstView,
      ReplicaMeters meters) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new RegistryActor(ctx, timers, views, settings, clock, firstView, meters)));
  }

  @Override
  public Receive<Command> createReceive() {
    return link.handle(newReceiveBuilder())
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onMessage(AddSubscriber.class, this::onAddSubscriber)
        .onMessageEquals(RemoveClosedSubscribers.INSTANCE, this::onRemoveClosedSubscribers)
        .onMessage(RemoveSubscriber.class, this::onRemoveSubscriber)
        .onMessage(Stopped.class, this::onStopped)
        .onMessageEquals(Batch.INSTANCE, this::onBatch)
        .build();
  }

  // ---- commands of this node ----

  private Behavior<Command> onRegister(Register cmd) {
    String path = pathOf.computeIfAbsent(cmd.worker(), link::pathOf);
    if (core.localEntry(cmd.group(), path) == null) {
      ReplicaEntry entry = new ReplicaEntry(cmd.group(), cmd.protocol(), path, clock.millis(), 0);
      entry.view =
          new WorkerEntry<>(
              cmd.group(), self, cmd.worker(), instant(entry.registeredAt()), WorkerState.ACTIVE);
      core.put(entry);
      meters.registered(cmd.group());
      Set<String> groups = groupsOfWorker.get(cmd.worker());
      if (groups == null) {
        watchOnce(cmd.worker());
        groups = new HashSet<>();
        groupsOfWorker.put(cmd.worker(), groups);
      }
      groups.add(cmd.group());
    }
    pacer.afterPublish(() -> cmd.reply().complete(Done.getInstance()));
    pacer.requestBatch();
    return this;
  }

  private Behavior<Command> onUnregister(Unregister cmd) {
    if (removeLocal(cmd.group(), cmd.worker())) {
      meters.unregistered(cmd.group());
    }
    pacer.afterPublish(() -> cmd.reply().complete(Done.getInstance()));
    pacer.requestBatch();
    return this;
  }

  private Behavior<Command> onDrain(Drain cmd) {
    String path = pathOf.get(cmd.worker());
    ReplicaEntry entry = path == null ? null : core.localEntry(cmd.group(), path);
    if (entry == null) {
      IllegalArgumentException e =
          new IllegalArgumentException(
              "cannot drain ["
                  + cmd.worker()
                  + "]: it is not a registered member of group ["
                  + cmd.group()
                  + "] on this node");
      executor.execute(() -> cmd.reply().completeExceptionally(e));
      return this;
    }
    drain(entry, cmd.worker());
    afterFlush.add(
        () -> awaitAcks(() -> executor.execute(() -> cmd.reply().complete(Done.getInstance()))));
    pacer.requestBatch();
    return this;
  }

  private Behavior<Command> onDrainAll(DrainAll cmd) {
    int count = 0;
    for (Map.Entry<ActorRef<Object>, Set<String>> worker : groupsOfWorker.entrySet()) {
      String path = pathOf.get(worker.getKey());
      for (String group : worker.getValue()) {
        drain(core.localEntry(group, path), worker.getKey());
        count++;
      }
    }
    if (count > 0) {
      getContext().getLog().info("Draining {} worker registration(s) before leaving", count);
    }
    afterFlush.add(() -> awaitAcks(() -> cmd.replyTo().tell(Done.getInstance())));
    pacer.requestBatch();
    return this;
  }

  private void drain(ReplicaEntry entry, ActorRef<Object> worker) {
    if (entry.extra() == WorkerState.DRAINING.ordinal()) {
      return;
    }
    ReplicaEntry drained = entry.withExtra(WorkerState.DRAINING.ordinal());
    drained.view =
        new WorkerEntry<>(
            entry.key(), self, worker, instant(entry.registeredAt()), WorkerState.DRAINING);
    core.put(drained);
  }

  /** Runs {@code then} once every reachable peer acknowledged what was sent so far. */
  private void awaitAcks(Runnable then) {
    Map<String, Long> seqs = new HashMap<>(core.sent());
    seqs.keySet().removeAll(link.unreachable());
    AckWait wait = new AckWait(seqs, System.nanoTime() + settings.writeTimeout().toNanos(), then);
    if (!checkAcks(wait, System.nanoTime())) {
      ackWaits.add(wait);
    }
  }

  private boolean checkAcks(AckWait wait, long nowNanos) {
    wait.seqs()
        .entrySet()
        .removeIf(
            e ->
                core.acked(e.getKey()) >= e.getValue()
                    || core.acked(e.getKey()) < 0
                    || link.unreachable().contains(e.getKey()));
    if (wait.seqs().isEmpty() || nowNanos - wait.deadlineNanos() > 0) {
      wait.then().run();
      return true;
    }
    return false;
  }

  private Behavior<Command> onAddSubscriber(AddSubscriber cmd) {
    RegistryViews.Subscriber subscriber = cmd.subscriber();
    ActorRef<Object> owner = subscriber.owner();
    if (owner != null) {
      List<RegistryViews.Subscriber> own = subscribersOf.get(owner);
      if (own != null
          && own.stream()
              .anyMatch(
                  s ->
                      s.group().equals(subscriber.group())
                          && s.protocol().equals(subscriber.protocol()))) {
        return this; // subscribed already
      }
      if (own == null) {
        watchOnce(owner);
        own = new ArrayList<>(1);
        subscribersOf.put(owner, own);
      }
      own.add(subscriber);
    }
    views.subscribe(subscriber);
    return this;
  }

  private Behavior<Command> onRemoveSubscriber(RemoveSubscriber cmd) {
    List<RegistryViews.Subscriber> own = subscribersOf.get(cmd.owner());
    if (own != null) {
      own.removeIf(
          s -> {
            boolean match = s.group().equals(cmd.group()) && s.protocol().equals(cmd.protocol());
            if (match) {
              s.close();
            }
            return match;
          });
      if (own.isEmpty()) {
        subscribersOf.remove(cmd.owner());
        unwatchIfUnused(cmd.owner());
      }
      views.removeClosed();
    }
    return this;
  }

  /** Watches {@code ref} unless it is watched already (as a worker or a subscriber). */
  private void watchOnce(ActorRef<Object> ref) {
    if (!groupsOfWorker.containsKey(ref) && !subscribersOf.containsKey(ref)) {
      getContext().watchWith(ref, new Stopped(ref));
    }
  }

  /** Stops watching {@code ref} once it is neither a worker nor a subscriber. */
  private void unwatchIfUnused(ActorRef<Object> ref) {
    if (!groupsOfWorker.containsKey(ref) && !subscribersOf.containsKey(ref)) {
      getContext().unwatch(ref);
    }
  }

  private Behavior<Command> onRemoveClosedSubscribers() {
    views.removeClosed();
    return this;
  }

  private Behavior<Command> onStopped(Stopped msg) {
    List<RegistryViews.Subscriber> own = subscribersOf.remove(msg.ref());
    if (own != null) {
      own.forEach(RegistryViews.Subscriber::close);
      views.removeClosed();
    }
    Set<String> groups = groupsOfWorker.get(msg.ref());
    if (groups != null) {
      int removed = 0;
      for (String group : List.copyOf(groups)) {
        removed += removeLocal(group, msg.ref()) ? 1 : 0;
      }
      meters.pruned(ReplicaMeters.PruneReason.ACTOR_STOPPED, removed);
      pacer.requestBatch();
    }
    return this;
  }

  /** Removes the entry of {@code worker} under {@code group}; returns whether there was one. */
  private boolean removeLocal(String group, ActorRef<Object> worker) {
    String path = pathOf.get(worker);
    if (path == null || core.remove(group, path) == null) {
      return false;
    }
    Set<String> groups = groupsOfWorker.get(worker);
    groups.remove(group);
    if (groups.isEmpty()) {
      groupsOfWorker.remove(worker);
      pathOf.remove(worker);
      unwatchIfUnused(worker);
    }
    return true;
  }

  // ---- peers ----

  /** After the link handled a message of a peer, a cluster event or a tick. */
  private void onPeerMessage() {
    if (!ackWaits.isEmpty()) {
      long now = System.nanoTime();
      ackWaits.removeIf(wait -> checkAcks(wait, now));
    }
    pacer.requestBatch();
  }

  // ---- batches and views ----

  private Behavior<Command> onBatch() {
    pacer.batchStarted();
    core.flush(outbox);
    if (!afterFlush.isEmpty()) {
      List<Runnable> due = List.copyOf(afterFlush);
      afterFlush.clear();
      due.forEach(Runnable::run);
    }
    long now = System.nanoTime();
    if (!pacer.mayPublish(now)) {
      return this;
    }
    Map<String, ReplicaChanges.Change> changes = core.takeChanges();
    if (!changes.isEmpty()) {
      Set<String> unreachable = link.unreachable();
      Map<String, GroupView> changed = new LinkedHashMap<>();
      changes.forEach(
          (group, change) -> {
            changed.put(group, buildView(group, change, unreachable));
            meters.entriesGauge(group, views, v -> groupSize(v, group));
          });
      views.publish(changed);
    }
    core.takeOrigins((stamps, count) -> meters.propagated(stamps, count, clock.millis()));
    pacer.published(now);
    return this;
  }

  /** The entries of {@code group} in {@code views}' current view; O(1), for the gauge. */
  private static double groupSize(RegistryViews views, String group) {
    GroupView view = views.view(group);
    return view == null ? 0 : view.all().size();
  }

  /** An Instant of {@code millis}: one made before for the same millisecond, if still cached. */
  private Instant instant(long millis) {
    int slot = (int) (millis & (instants.length - 1));
    Instant at = instants[slot];
    if (at == null || at.toEpochMilli() != millis) {
      at = Instant.ofEpochMilli(millis);
      instants[slot] = at;
    }
    return at;
  }

  /** Brings {@code group}'s order up to date with {@code change} and makes its view. */
  private GroupView buildView(String group, ReplicaChanges.Change change, Set<String> unreachable) {
    GroupOrder order = orders.computeIfAbsent(group, g -> new GroupOrder());
    if (change.full()) {
      order.reset(
          each ->
              core.forEach(
                  group,
                  (node, entry) -> {
                    prepare(node, entry);
                    each.accept(node, entry);
                  }));
    } else {
      change.added().forEach((entry, node) -> prepare(node, entry));
      order.apply(change);
    }
    if (order.size() == 0) {
      orders.remove(group);
    }
    return GroupView.of(group, order, unreachable, views.view(group));
  }

  /** Fills {@code entry}'s caches: its WorkerEntry (with the resolved ref) and pick Optional. */
  private void prepare(String node, ReplicaEntry entry) {
    if (entry.view == null) {
      Address address = addresses.computeIfAbsent(node, AddressFromURIString::parse);
      entry.view =
          new WorkerEntry<>(
              entry.key(),
              address,
              remoteRefs.resolve(node, address, entry.path()),
              instant(entry.registeredAt()),
              entry.extra() == 1 ? WorkerState.DRAINING : WorkerState.ACTIVE);
    }
    if (entry.pick == null) {
      entry.pick = Optional.of(((WorkerEntry<?>) entry.view).ref());
    }
  }
}
