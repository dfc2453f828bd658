package dev.troupe.core.internal;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. Keeps this node's view of the address book; see the design notes. */
public final class AddressBookActor extends AbstractBehavior<AddressBookActor.Command> {
  /*
   * Design notes.
   *
   * Data: the same owned-entries replication as the worker registry (OwnedReplicas, PeerLink):
   * each node owns the names of its own actors and sends their changes straight to every peer,
   * batched; a peer that connects gets a full copy; a removed node's names are dropped at once.
   * A change costs one message per peer per batch and O(1) work per name on each node, whatever
   * the book's size, so a burst of n names is O(n) everywhere.
   *
   * Batching: commands change the core and ask for a Batch (a message to self). The batch sends
   * the changes, republishes the names that changed, settles duplicates among this node's holders
   * of those names (of every name after a membership change), and only then acknowledges the
   * registrations (read-your-writes). Republishing is paced as in the registry: after a round that
   * took t, the next waits at least t, unless a registration of this node waits for it.
   *
   * The published name map is a ConcurrentHashMap that only this actor writes, one name at a time;
   * readers see each name's holders replaced atomically.
   *
   * Limit: register of a name new to the view fails once the view holds max-names names.
   *
   * One holder per name: the entry on an available (Up, reachable) node with the highest rank wins
   * (0 unless registered with a rank, such as a daemon's epoch), then the oldest by registration
   * time of the registering node, then node address, then path - a total order every node computes
   * alike. Whenever its view changes, each node checks its own holders: one that is not the winner
   * while the winner is available is a duplicate; the node removes its entry and stops it
   * (PoisonPill) or tells it the message given at registration. Holders on unreachable nodes never
   * win, so a partition never stops the only reachable holder.
   *
   * Query: asks every other member for a fresh full copy and answers once a majority of the
   * members (this node included) have delivered one, from the entries then held.
   *
   * Membership comes from cluster events and the cluster's state (re-read at every batch); the view
   * records when it last changed so that resolve() can answer Unknown, not Absent, while peers are
   * exchanging copies (settle-time).
   */

  /** The protocol of the address-book actor. */
  public interface Command {}

  /** Names a local actor. */
  public record Register(
      String name,
      ActorRef<Object> ref,
      String protocol,
      Optional<Object> onDuplicate,
      long rank,
      CompletableFuture<Done> reply)
      implements Command {}

  /** Reads every name from a majority and replies with the holder of every name. */
  public record Query(Duration timeout, ActorRef<StatusReply<Map<String, Address>>> replyTo)
      implements Command {}

  private record HolderTerminated(ActorRef<Object> ref) implements Command {}

  private record QueryTimedOut(QueryState state) implements Command {}

  private enum Batch implements Command {
    INSTANCE
  }

  /** A name held by an actor of this node. */
  private record Local(
      String name, ReplicaEntry entry, ActorRef<Object> ref, Optional<Object> onDup) {}

  /** A query in progress. */
  private static final class QueryState {
    final ActorRef<StatusReply<Map<String, Address>>> replyTo;
    final Set<String> waitingFor;
    int needed;
    boolean done;

    QueryState(
        ActorRef<StatusReply<Map<String, Address>>> replyTo, Set<String> waitingFor, int needed) {
      this.replyTo = replyTo;
      this.waitingFor = waitingFor;
      this.needed = needed;
    }
  }

  private final AddressBookViewHolder holder;
  private final AddressBookSettings settings;
  private final Clock clock;
  private final PeerLink<Command> link;
  private final OwnedReplicas core;
  private final OwnedReplicas.Outbox outbox;
  private final Executor executor;
  private final PublishPacer<Command> pacer;
  private final String self;
  private final ReplicaMeters meters;
  // the published names: written by this actor only, one name at a time
  private final Map<String, List<NameEntry>> names = new ConcurrentHashMap<>();
  // name -> path -> registration of this node; the names and path of each local holder
  private final Map<String, Map<String, Local>> localsByName = new HashMap<>();
  private final Map<ActorRef<Object>, Set<String>> refsWatched = new HashMap<>();
  private final Map<ActorRef<Object>, String> pathOf = new HashMap<>();
  private final List<QueryState> queries = new ArrayList<>();
  private int unpublishedNewNames;
  private boolean membershipChanged;

  private AddressBookActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      AddressBookViewHolder holder,
      AddressBookSettings settings,
      Clock clock,
      FirstView firstView,
      ReplicaMeters meters) {
    super(ctx);
    this.meters = meters;
    this.holder = holder;
    this.settings = settings;
    this.clock = clock;
    this.executor = ctx.getExecutionContext();
    this.pacer = new PublishPacer<>(timers, ctx.getSelf(), Batch.INSTANCE, executor);
    this.link =
        new PeerLink<>(ctx, timers, settings.replication(), pacer::requestBatch, firstView, meters);
    this.core = link.core();
    this.outbox = link.outbox();
    this.self = link.selfAddress().toString();
    holder.set(holder.view().withNames(names));
    meters.entriesGauge(null, names, Map::size);
  }

  /** The address-book actor, publishing into {@code holder}, recording on {@code meters}. */
  public static Behavior<Command> create(
      AddressBookViewHolder holder,
      AddressBookSettings settings,
      Clock clock,
      FirstView firstView,
      ReplicaMeters meters) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new AddressBookActor(ctx, timers, holder, settings, clock, firstView, meters)));
  }

  @Override
  public Receive<Command> createReceive() {
    return link.handle(newReceiveBuilder())
        .onMessage(Register.class, this::onRegister)
        .onMessage(Query.class, this::onQuery)
        .onMessage(QueryTimedOut.class, this::onQueryTimedOut)
        .onMessage(HolderTerminated.class, this::onHolderTerminated)
        .onMessageEquals(Batch.INSTANCE, this::onBatch)
        .build();
  }

  // ---- registrations of this node ----

  private Behavior<Command> onRegister(Register cmd) {
    String known = pathOf.get(cmd.ref());
    String path = known != null ? known : link.pathOf(cmd.ref());
    Map<String, Local> holders = localsByName.get(cmd.name());
    if (holders == null || !holders.containsKey(path)) {
      boolean newName = holders == null && !names.containsKey(cmd.name());
      if (newName && names.size() + unpublishedNewNames >= settings.maxNames()) {
        IllegalStateException e =
            new IllegalStateException(
                "AddressBook.register: the address book holds its limit of "
                    + settings.maxNames()
                    + " names (troupe.core.address-book.max-names); name ["
                    + cmd.name()
                    + "] refused");
        executor.execute(() -> cmd.reply().completeExceptionally(e));
        return this;
      }
      if (newName) {
        unpublishedNewNames++;
      }
      ReplicaEntry entry =
          new ReplicaEntry(cmd.name(), cmd.protocol(), path, clock.millis(), cmd.rank());
      entry.view = new NameEntry(self, path, entry.registeredAt(), cmd.protocol(), cmd.rank());
      core.put(entry);
      meters.registered(cmd.name());
      localsByName
          .computeIfAbsent(cmd.name(), n -> new HashMap<>())
          .put(path, new Local(cmd.name(), entry, cmd.ref(), cmd.onDuplicate()));
      Set<String> watched = refsWatched.computeIfAbsent(cmd.ref(), r -> new HashSet<>());
      if (watched.isEmpty()) {
        pathOf.put(cmd.ref(), path);
        getContext().watchWith(cmd.ref(), new HolderTerminated(cmd.ref()));
      }
      watched.add(cmd.name());
    }
    pacer.afterPublish(() -> cmd.reply().complete(Done.getInstance()));
    pacer.requestBatch();
    return this;
  }

  private Behavior<Command> onHolderTerminated(HolderTerminated msg) {
    Set<String> held = refsWatched.remove(msg.ref());
    String path = pathOf.remove(msg.ref());
    if (held != null && path != null) {
      int removed = 0;
      for (String name : held) {
        removed += removeLocal(name, path) ? 1 : 0;
      }
      meters.pruned(ReplicaMeters.PruneReason.ACTOR_STOPPED, removed);
      pacer.requestBatch();
    }
    return this;
  }

  /** Removes this node's entry of {@code name} at {@code path}; returns whether there was one. */
  private boolean removeLocal(String name, String path) {
    Map<String, Local> holders = localsByName.get(name);
    if (holders != null && holders.remove(path) != null) {
      if (holders.isEmpty()) {
        localsByName.remove(name);
      }
      core.remove(name, path);
      return true;
    }
    return false;
  }

  // ---- batches ----

  private Behavior<Command> onBatch() {
    pacer.batchStarted();
    refreshMembership();
    core.flush(outbox);
    answerQueries();
    long now = System.nanoTime();
    if (!pacer.mayPublish(now)) {
      return this;
    }
    publishNames();
    core.takeOrigins((stamps, count) -> meters.propagated(stamps, count, clock.millis()));
    core.flush(outbox); // duplicates this node gave up
    unpublishedNewNames = 0;
    pacer.published(now);
    return this;
  }

  /**
   * Publishes the membership of the cluster's state if it differs from the view's. Called at every
   * batch (each cluster event and status tick makes one): the cluster's state is updated by its own
   * subscriber, so an event can arrive here before the state shows it.
   */
  private void refreshMembership() {
    Cluster cluster = Cluster.get(getContext().getSystem());
    Set<Address> unreachable = new HashSet<>();
    cluster.state().getUnreachable().forEach(m -> unreachable.add(m.address()));
    Set<Address> available = new HashSet<>();
    Set<String> members = new HashSet<>();
    for (Member m : cluster.state().getMembers()) {
      members.add(m.address().toString());
      if (m.status().equals(MemberStatus.up()) && !unreachable.contains(m.address())) {
        available.add(m.address());
      }
    }
    boolean selfUp = cluster.selfMember().status().equals(MemberStatus.up());
    AddressBookView view = holder.view();
    if (!available.equals(view.available())
        || !members.equals(view.members())
        || selfUp != view.selfUp()) {
      holder.set(view.withMembership(available, members, selfUp));
      membershipChanged = true;
    }
  }

  // ---- view and duplicates ----

  /**
   * Republishes the names that changed, then settles duplicates among this node's holders of those
   * names (of every name after a membership change), which marks more.
   */
  private void publishNames() {
    List<Local> candidates = new ArrayList<>();
    if (membershipChanged) {
      membershipChanged = false;
      localsByName.values().forEach(holders -> candidates.addAll(holders.values()));
    }
    Set<String> dirty = core.takeDirty();
    while (!dirty.isEmpty() || !candidates.isEmpty()) {
      for (String name : dirty) {
        publish(name);
        Map<String, Local> holders = localsByName.get(name);
        if (holders != null) {
          candidates.addAll(holders.values());
        }
      }
      // A stopped duplicate marks its name again; the next round republishes it.
      resolveDuplicates(candidates);
      candidates.clear();
      dirty = core.takeDirty();
    }
  }

  /** Publishes the holders of {@code name}: this node's and every peer's, oldest first. */
  private void publish(String name) {
    List<NameEntry> holders = new ArrayList<>(1);
    core.forEach(name, (node, entry) -> holders.add(nameEntry(node, entry)));
    if (holders.isEmpty()) {
      names.remove(name);
    } else {
      if (holders.size() > 1) {
        holders.sort(NameEntry.OLDEST_FIRST);
      }
      names.put(name, List.copyOf(holders));
    }
  }

  private static NameEntry nameEntry(String node, ReplicaEntry entry) {
    NameEntry name = (NameEntry) entry.view;
    if (name == null) {
      name =
          new NameEntry(node, entry.path(), entry.registeredAt(), entry.protocol(), entry.extra());
      entry.view = name;
    }
    return name;
  }

  /** Stops (or tells) each of {@code candidates} that lost its name to an older available one. */
  private void resolveDuplicates(List<Local> candidates) {
    AddressBookView view = holder.view();
    for (Local local : candidates) {
      Map<String, Local> holders = localsByName.get(local.name());
      NameEntry mine = (NameEntry) local.entry().view;
      Optional<NameEntry> winner = view.winner(local.name());
      if (holders == null
          || holders.get(mine.path()) != local
          || winner.isEmpty()
          || winner.get().equals(mine)) {
        continue;
      }
      getContext()
          .getLog()
          .info(
              "Name [{}] is held by an older actor [{}] on [{}]; {} the younger duplicate [{}]",
              local.name(),
              winner.get().path(),
              winner.get().node(),
              local.onDup().isPresent() ? "telling" : "stopping",
              local.ref());
      if (removeLocal(local.name(), mine.path())) {
        meters.pruned(ReplicaMeters.PruneReason.DUPLICATE, 1);
      }
      Set<String> watchedNames = refsWatched.get(local.ref());
      if (watchedNames != null) {
        watchedNames.remove(local.name());
        if (watchedNames.isEmpty()) {
          refsWatched.remove(local.ref());
          pathOf.remove(local.ref());
          getContext().unwatch(local.ref());
        }
      }
      if (local.onDup().isPresent()) {
        local.ref().tell(local.onDup().get());
      } else {
        org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(local.ref())
            .tell(
                org.apache.pekko.actor.PoisonPill.getInstance(),
                org.apache.pekko.actor.ActorRef.noSender());
      }
    }
  }

  // ---- majority query ----

  private Behavior<Command> onQuery(Query cmd) {
    Cluster cluster = Cluster.get(getContext().getSystem());
    List<Member> others = new ArrayList<>();
    int memberCount = 0;
    for (Member m : cluster.state().getMembers()) {
      if (m.status().equals(MemberStatus.removed()) || m.status().equals(MemberStatus.down())) {
        continue;
      }
      memberCount++;
      if (!m.address().toString().equals(self)) {
        others.add(m);
      }
    }
    int needed = Math.max(0, memberCount / 2 + 1 - 1); // a majority, this node counted
    Set<String> waitingFor = new HashSet<>();
    long now = System.nanoTime();
    for (Member m : others) {
      waitingFor.add(m.address().toString());
      core.requestCopy(
          new OwnedReplicas.Peer(m.address().toString(), m.uniqueAddress().longUid()), outbox, now);
    }
    QueryState state = new QueryState(cmd.replyTo(), waitingFor, needed);
    queries.add(state);
    getContext().scheduleOnce(cmd.timeout(), getContext().getSelf(), new QueryTimedOut(state));
    answerQueries();
    return this;
  }

  private void answerQueries() {
    Set<String> copies = core.takeCompletedSyncs();
    if (queries.isEmpty()) {
      return;
    }
    queries.removeIf(
        state -> {
          for (String node : copies) {
            if (state.waitingFor.remove(node)) {
              state.needed--;
            }
          }
          if (state.needed > 0) {
            return false;
          }
          state.done = true;
          state.replyTo.tell(StatusReply.success(holdersNow()));
          return true;
        });
  }

  /** The holder of every name by the oldest-wins rule, from the entries held now. */
  private Map<String, Address> holdersNow() {
    AddressBookView view = holder.view();
    Map<String, Address> result = new TreeMap<>();
    for (String name : core.keys()) {
      List<NameEntry> holders = new ArrayList<>();
      core.forEach(name, (node, entry) -> holders.add(nameEntry(node, entry)));
      holders.sort(NameEntry.OLDEST_FIRST);
      view.winner(holders).ifPresent(w -> result.put(name, view.ringNodes().get(w.node())));
    }
    return Map.copyOf(result);
  }

  private Behavior<Command> onQueryTimedOut(QueryTimedOut msg) {
    QueryState state = msg.state();
    if (!state.done) {
      state.done = true;
      queries.remove(state);
      state.replyTo.tell(
          StatusReply.error(
              new TimeoutException(
                  "address book query: no majority of nodes sent their names in time; waiting"
                      + " for "
                      + state.waitingFor)));
    }
    return this;
  }
}
