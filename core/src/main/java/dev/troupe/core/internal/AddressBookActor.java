package dev.troupe.core.internal;

import dev.troupe.core.TroupeSerializable;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.ORMultiMap;
import org.apache.pekko.cluster.ddata.ORMultiMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. Keeps this node's replica view of the address book; see the design notes. */
public final class AddressBookActor extends AbstractBehavior<AddressBookActor.Command> {
  /*
   * Design notes.
   *
   * Data: ORMultiMap<String name, NameEntry> (with value deltas) in Troupe's replicator, spread
   * over distributed-key-count keys by name hash so that no single CRDT holds 100k names. A node
   * adds and removes only the entries of its own actors; any node removes the entries of a node
   * that was removed from the cluster (observed-remove makes that safe).
   *
   * Batching: commands only change this actor's state, mark the names they touch and ask for a
   * batch (a Batch message to itself, so it runs once the messages already in the mailbox are
   * handled). The batch converts the keys whose replica changed, republishes only the names that
   * changed, settles duplicates among this node's holders of those names (of every name after a
   * membership change), sends one Update per key with the batch's writes to it (at most
   * MAX_CHANGES_PER_UPDATE each, so that no delta nears the frame size), and only then
   * acknowledges the batch's registrations. A burst of n registrations thus costs a few Updates
   * and O(n) view work, not n Updates and n view rebuilds (rebuilding the view per registration
   * made 100k registrations quadratic).
   *
   * Pacing: converting a changed replica costs the size of its key, so during a burst, when other
   * nodes' writes change every key every few milliseconds, converting at each batch would again
   * be quadratic. After a conversion that took t, the next one waits at least 2t (a timer makes
   * sure it happens); this node's own registrations never wait for it. In quiet times t is well
   * below a millisecond and remote changes show at once.
   *
   * The published view's name map is a ConcurrentHashMap that only this actor writes, one name at
   * a time; readers see each name's holders replaced atomically.
   *
   * Writes go to all reachable nodes at once (WriteAll, write-timeout). This actor does not
   * subscribe to its keys: the replicator computes a digest of a subscribed key (a serialization of
   * the whole key) at every change, which made a burst of 100k names quadratic. It polls instead:
   * a local Get of every key (a key whose data is the same object as at the last poll is
   * skipped) when its own write completes, when another node's address-book actor sends a Flush
   * hint (sent once a write of that node is acknowledged, so a new name is visible everywhere
   * within milliseconds), and every poll-interval for changes that came by gossip. This node's own
   * registrations are in its view as soon as register completes (read-your-writes).
   *
   * Limit: register of a name new to the view fails once the view holds max-names names.
   *
   * One holder per name: the entry on an available (Up, reachable) node with the highest rank wins
   * (0 unless registered with a rank, such as a daemon's epoch), then the oldest by registration
   * time of the registering node, then node address, then ref - a total order every node computes
   * alike. Whenever its view changes, each node checks its own holders: one that is
   * not the winner while the winner is available is a duplicate; the node removes its entry and
   * stops it (PoisonPill) or tells it the message given at registration. Holders on unreachable
   * nodes never win, so a partition never stops the only reachable holder.
   *
   * Membership comes from cluster events; the view records when it last changed so that resolve()
   * can answer Unknown, not Absent, while replicas are converging (settle-time).
   */

  /**
   * The most changes one Update carries: its delta goes to every node in one message (about 340
   * bytes a change, at most about 2 KiB), which must stay well below Artery's 256 KiB frame.
   */
  static final int MAX_CHANGES_PER_UPDATE = 32;

  /** The protocol of the address-book actor. */
  public sealed interface Command {}

  /** Names a local actor. */
  public record Register(
      String name,
      ActorRef<Object> ref,
      String protocol,
      Optional<Object> onDuplicate,
      long rank,
      ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Reads every key from a majority and replies with the holder of every name. */
  public record Query(Duration timeout, ActorRef<StatusReply<Map<String, Address>>> replyTo)
      implements Command {}

  /** From another node's address-book actor: its write is in this node's replica now. */
  public enum Flush implements Command, TroupeSerializable {
    INSTANCE
  }

  private record HolderTerminated(ActorRef<Object> ref) implements Command {}

  private record Polled(Replicator.GetResponse<ORMultiMap<String, NameEntry>> rsp)
      implements Command {}

  private enum Poll implements Command {
    INSTANCE
  }

  private record ClusterChanged(ClusterEvent.ClusterDomainEvent event) implements Command {}

  private record Written(boolean flush) implements Command {}

  private record QueryPart(
      QueryState state, Replicator.GetResponse<ORMultiMap<String, NameEntry>> rsp)
      implements Command {}

  private enum Sweep implements Command {
    INSTANCE
  }

  private enum Batch implements Command {
    INSTANCE
  }

  /** The timer key of a replica conversion that waits for its turn (see Pacing). */
  private static final Object CONVERT_TIMER = "convert";

  /** A name held by an actor of this node. */
  private record Local(
      String name, NameEntry entry, ActorRef<Object> ref, Optional<Object> onDup) {}

  /** A query in progress. */
  private static final class QueryState {
    final ActorRef<StatusReply<Map<String, Address>>> replyTo;
    final Map<String, List<NameEntry>> names = new HashMap<>();
    int pending;
    boolean failed;

    QueryState(ActorRef<StatusReply<Map<String, Address>>> replyTo, int pending) {
      this.replyTo = replyTo;
      this.pending = pending;
    }
  }

  private final AddressBookViewHolder holder;
  private final TimerScheduler<Command> timers;
  private final AddressBookSettings settings;
  private final Clock clock;
  private final ActorRefResolver resolver;
  private final SelfUniqueAddress selfUniqueAddress;
  private final Address self;
  private final ReplicatorMessageAdapter<Command, ORMultiMap<String, NameEntry>> replicator;
  private final ActorRef<Replicator.Command> replicatorRef;
  private final Peers<Command> peers;
  private final List<Key<ORMultiMap<String, NameEntry>>> dataKeys = new ArrayList<>();
  private final List<Map<String, Set<NameEntry>>> replica = new ArrayList<>();
  // the published names: written by this actor only, one name at a time
  private final Map<String, List<NameEntry>> names = new ConcurrentHashMap<>();
  // ref string#name -> registration of this node, by name and by data-key index, and the ones the
  // replica has shown
  private final Map<String, Local> localByRef = new HashMap<>();
  private final Map<String, Map<String, Local>> localsByName = new HashMap<>();
  private final Map<ActorRef<Object>, Set<String>> refsWatched = new HashMap<>();
  private final List<Map<String, Local>> localsByKey = new ArrayList<>();
  private final Set<String> seenInReplica = new HashSet<>();
  // the current batch: replicas to convert, names to republish, writes per data-key index,
  // registrations to answer
  private final List<ORMultiMap<String, NameEntry>> changedData = new ArrayList<>();
  // polling the replicator: the data each key had at the last poll, answers still due, and
  // whether another poll was asked for meanwhile
  private final List<ORMultiMap<String, NameEntry>> lastPolled = new ArrayList<>();
  private final ActorRef<Replicator.GetResponse<ORMultiMap<String, NameEntry>>> pollReplies;
  private int pollAnswersDue;
  private boolean pollAgain;
  private int changedKeys;
  private long nextConversionNanos = System.nanoTime();
  private final Set<String> dirtyNames = new HashSet<>();
  private boolean membershipChanged;
  // names new to the view registered since the last batch (the view has them after it)
  private int newNamesInBatch;
  private boolean flushPeers;
  private final Map<
          Integer, List<Function<ORMultiMap<String, NameEntry>, ORMultiMap<String, NameEntry>>>>
      pendingWrites = new TreeMap<>();
  private final List<ActorRef<StatusReply<Done>>> pendingAcks = new ArrayList<>();
  private boolean batchRequested;

  private AddressBookActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      AddressBookViewHolder holder,
      AddressBookSettings settings,
      ActorRef<Replicator.Command> replicatorRef,
      Clock clock) {
    super(ctx);
    this.holder = holder;
    this.timers = timers;
    this.settings = settings;
    this.clock = clock;
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.selfUniqueAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.self = Cluster.get(ctx.getSystem()).selfMember().address();
    this.replicator =
        new ReplicatorMessageAdapter<>(ctx, replicatorRef, settings.writeTimeout().multipliedBy(5));
    this.replicatorRef = replicatorRef;
    this.peers = new Peers<>(ctx.getSystem(), ctx.getSelf().path().name());
    @SuppressWarnings("unchecked")
    Class<Replicator.GetResponse<ORMultiMap<String, NameEntry>>> getResponse =
        (Class<Replicator.GetResponse<ORMultiMap<String, NameEntry>>>)
            (Class<?>) Replicator.GetResponse.class;
    this.pollReplies = ctx.messageAdapter(getResponse, Polled::new);
    for (int i = 0; i < settings.distributedKeyCount(); i++) {
      Key<ORMultiMap<String, NameEntry>> key = ORMultiMapKey.create("troupe-names-" + i);
      dataKeys.add(key);
      replica.add(Map.of());
      localsByKey.add(new HashMap<>());
      changedData.add(null);
      lastPolled.add(null);
    }
    holder.set(holder.view().withNames(names));
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(
            Subscribe.create(
                ctx.messageAdapter(ClusterEvent.ClusterDomainEvent.class, ClusterChanged::new),
                ClusterEvent.ClusterDomainEvent.class));
  }

  /** The address-book actor, publishing into {@code holder}. */
  public static Behavior<Command> create(
      AddressBookViewHolder holder,
      AddressBookSettings settings,
      ActorRef<Replicator.Command> replicator,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Sweep.INSTANCE, settings.pruneInterval());
                  timers.startTimerWithFixedDelay(Poll.INSTANCE, settings.pollInterval());
                  return new AddressBookActor(ctx, timers, holder, settings, replicator, clock);
                }));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Query.class, this::onQuery)
        .onMessage(QueryPart.class, this::onQueryPart)
        .onMessage(HolderTerminated.class, this::onHolderTerminated)
        .onMessage(Polled.class, this::onPolled)
        .onMessageEquals(Poll.INSTANCE, this::onPoll)
        .onMessage(ClusterChanged.class, this::onClusterChanged)
        .onMessage(Written.class, this::onWritten)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(Sweep.INSTANCE, this::onSweep)
        .onMessageEquals(Batch.INSTANCE, this::onBatch)
        .build();
  }

  // ---- registrations of this node ----

  private Behavior<Command> onRegister(Register cmd) {
    String ref = resolver.toSerializationFormat(cmd.ref());
    Local existing = localByRef.get(ref + "#" + cmd.name());
    boolean newName = !names.containsKey(cmd.name()) && !localsByName.containsKey(cmd.name());
    if (existing == null && newName && nameCount() + newNamesInBatch >= settings.maxNames()) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  new IllegalStateException(
                      "AddressBook.register: the address book holds its limit of "
                          + settings.maxNames()
                          + " names (troupe.core.address-book.max-names); name ["
                          + cmd.name()
                          + "] refused")));
      return this;
    }
    if (existing == null) {
      if (newName) {
        newNamesInBatch++;
      }
      NameEntry entry =
          new NameEntry(ref, self.toString(), clock.millis(), cmd.protocol(), cmd.rank());
      Local registration = new Local(cmd.name(), entry, cmd.ref(), cmd.onDuplicate());
      addLocal(registration);
      if (refsWatched.computeIfAbsent(cmd.ref(), r -> new HashSet<>()).isEmpty()) {
        getContext().watchWith(cmd.ref(), new HolderTerminated(cmd.ref()));
      }
      refsWatched.get(cmd.ref()).add(cmd.name());
      write(cmd.name(), map -> map.addBinding(selfUniqueAddress, cmd.name(), entry));
      getContext().getLog().debug("Name [{}] registered to [{}]", cmd.name(), cmd.ref());
    }
    pendingAcks.add(cmd.replyTo());
    requestBatch();
    return this;
  }

  /**
   * The names the book holds as far as this node knows: the published view, or the replica with the
   * changes not converted yet (see Pacing) if that has more.
   */
  private int nameCount() {
    int inReplica = 0;
    for (int index = 0; index < replica.size(); index++) {
      ORMultiMap<String, NameEntry> pending = changedData.get(index);
      inReplica += pending != null ? pending.size() : replica.get(index).size();
    }
    return Math.max(names.size(), inReplica);
  }

  private Behavior<Command> onHolderTerminated(HolderTerminated msg) {
    Set<String> names = refsWatched.remove(msg.ref());
    if (names != null) {
      String ref = resolver.toSerializationFormat(msg.ref());
      for (String name : names) {
        Local removed = removeLocal(ref + "#" + name);
        if (removed != null) {
          removeBinding(name, removed.entry());
        }
      }
      requestBatch();
    }
    return this;
  }

  private void addLocal(Local local) {
    String id = local.entry().ref() + "#" + local.name();
    localByRef.put(id, local);
    localsByName.computeIfAbsent(local.name(), n -> new HashMap<>()).put(id, local);
    localsByKey.get(keyIndex(local.name())).put(id, local);
    dirtyNames.add(local.name());
  }

  private Local removeLocal(String id) {
    Local removed = localByRef.remove(id);
    if (removed != null) {
      Map<String, Local> sameName = localsByName.get(removed.name());
      sameName.remove(id);
      if (sameName.isEmpty()) {
        localsByName.remove(removed.name());
      }
      localsByKey.get(keyIndex(removed.name())).remove(id);
      seenInReplica.remove(id);
      dirtyNames.add(removed.name());
    }
    return removed;
  }

  private void removeBinding(String name, NameEntry entry) {
    write(name, map -> map.removeBinding(selfUniqueAddress, name, entry));
  }

  /** Adds a WriteAll change of {@code name}'s key to the batch. */
  private void write(
      String name, Function<ORMultiMap<String, NameEntry>, ORMultiMap<String, NameEntry>> modify) {
    pendingWrites.computeIfAbsent(keyIndex(name), i -> new ArrayList<>()).add(modify);
    requestBatch();
  }

  private void requestBatch() {
    if (!batchRequested) {
      batchRequested = true;
      getContext().getSelf().tell(Batch.INSTANCE);
    }
  }

  private Behavior<Command> onBatch() {
    batchRequested = false;
    newNamesInBatch = 0;
    if (changedKeys > 0) {
      long wait = nextConversionNanos - System.nanoTime();
      if (wait <= 0) {
        applyChangedData();
      } else if (!timers.isTimerActive(CONVERT_TIMER)) {
        timers.startSingleTimer(CONVERT_TIMER, Batch.INSTANCE, Duration.ofNanos(wait));
      }
    }
    publishNames();
    pendingWrites.forEach(
        (index, all) -> {
          for (int from = 0; from < all.size(); from += MAX_CHANGES_PER_UPDATE) {
            int to = Math.min(all.size(), from + MAX_CHANGES_PER_UPDATE);
            update(index, List.copyOf(all.subList(from, to)));
          }
        });
    pendingWrites.clear();
    pendingAcks.forEach(replyTo -> replyTo.tell(StatusReply.ack()));
    pendingAcks.clear();
    if (flushPeers) {
      flushPeers = false;
      peers.forEach(peer -> peer.tell(Flush.INSTANCE));
    }
    return this;
  }

  /** One WriteAll Update of the key at {@code index} with {@code changes}, in order. */
  private void update(
      int index,
      List<Function<ORMultiMap<String, NameEntry>, ORMultiMap<String, NameEntry>>> changes) {
    replicator.askUpdate(
        replyTo ->
            new Replicator.Update<>(
                dataKeys.get(index),
                ORMultiMap.emptyWithValueDeltas(),
                settings.writeAll(),
                replyTo,
                map -> {
                  ORMultiMap<String, NameEntry> result = map;
                  for (Function<ORMultiMap<String, NameEntry>, ORMultiMap<String, NameEntry>> c :
                      changes) {
                    result = c.apply(result);
                  }
                  return result;
                }),
        response -> new Written(true));
  }

  /**
   * A write is in this node's replica and, if {@code flush}, reached the other nodes: poll, and the
   * batch tells the others to poll (one hint a batch).
   */
  private Behavior<Command> onWritten(Written msg) {
    if (msg.flush()) {
      flushPeers = true;
      requestBatch();
    }
    poll();
    return this;
  }

  /** From another node: its write is in this node's replica. */
  private Behavior<Command> onFlush() {
    poll();
    return this;
  }

  // ---- replicated state ----

  private Behavior<Command> onPoll() {
    refreshMembership();
    poll();
    return this;
  }

  /** Reads every key from the local replica, or asks for another round if one is under way. */
  private void poll() {
    if (pollAnswersDue > 0) {
      pollAgain = true;
      return;
    }
    pollAnswersDue = dataKeys.size();
    for (Key<ORMultiMap<String, NameEntry>> key : dataKeys) {
      replicatorRef.tell(new Replicator.Get<>(key, Replicator.readLocal(), pollReplies));
    }
  }

  private Behavior<Command> onPolled(Polled msg) {
    if (msg.rsp() instanceof Replicator.GetSuccess<ORMultiMap<String, NameEntry>> success) {
      int index = dataKeys.indexOf(success.key());
      ORMultiMap<String, NameEntry> data = success.dataValue();
      if (data != lastPolled.get(index)) {
        lastPolled.set(index, data);
        if (changedData.set(index, data) == null) {
          changedKeys++;
        }
        requestBatch();
      }
    }
    if (--pollAnswersDue == 0 && pollAgain) {
      pollAgain = false;
      poll();
    }
    return this;
  }

  /**
   * Converts the replicas that changed since the last conversion, marks the names whose holders
   * changed, and sets when the next conversion may run (see Pacing).
   */
  private void applyChangedData() {
    if (changedKeys == 0) {
      return;
    }
    long start = System.nanoTime();
    for (int index = 0; index < changedData.size(); index++) {
      ORMultiMap<String, NameEntry> data = changedData.get(index);
      if (data != null) {
        changedData.set(index, null);
        Map<String, Set<NameEntry>> entries = new HashMap<>();
        data.getEntries().forEach((name, set) -> entries.put(name, Set.copyOf(set)));
        Map<String, Set<NameEntry>> previous = replica.set(index, entries);
        entries.forEach(
            (name, set) -> {
              if (!set.equals(previous.get(name))) {
                dirtyNames.add(name);
              }
            });
        previous
            .keySet()
            .forEach(
                name -> {
                  if (!entries.containsKey(name)) {
                    dirtyNames.add(name);
                  }
                });
        healOwnEntries(index, entries);
      }
    }
    changedKeys = 0;
    long end = System.nanoTime();
    nextConversionNanos = end + 2 * (end - start);
  }

  /**
   * Re-adds entries of this node that the replica showed and then lost (for example to a mistaken
   * prune). An entry the replica has not shown yet is still on its way there: no write.
   */
  private void healOwnEntries(int index, Map<String, Set<NameEntry>> entries) {
    localsByKey
        .get(index)
        .forEach(
            (id, local) -> {
              if (entries.getOrDefault(local.name(), Set.of()).contains(local.entry())) {
                seenInReplica.add(id);
              } else if (seenInReplica.remove(id)) {
                write(
                    local.name(),
                    map -> map.addBinding(selfUniqueAddress, local.name(), local.entry()));
              }
            });
  }

  private Behavior<Command> onClusterChanged(ClusterChanged msg) {
    refreshMembership();
    if (msg.event() instanceof ClusterEvent.MemberRemoved removed) {
      prune(removed.member().address().toString(), Long.MAX_VALUE);
    }
    return this;
  }

  /**
   * Publishes the membership of the cluster's state if it differs from the view's. Called on every
   * cluster event and at every poll tick: the cluster's state is updated by its own subscriber, so
   * an event can arrive here before the state shows it, and with no later event the view would keep
   * the stale membership (a joined node missing from its own ring).
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
      requestBatch();
    }
  }

  private Behavior<Command> onSweep() {
    applyChangedData();
    requestBatch();
    AddressBookView view = holder.view();
    long registeredBefore = clock.millis() - settings.pruneGrace().toMillis();
    Set<String> gone = new HashSet<>();
    for (Map<String, Set<NameEntry>> entries : replica) {
      entries.values().forEach(set -> set.forEach(e -> gone.add(e.node())));
    }
    gone.removeAll(view.members());
    gone.forEach(node -> prune(node, registeredBefore));
    return this;
  }

  /** Removes the names held on {@code node} that were registered before {@code before}. */
  private void prune(String node, long before) {
    if (node.equals(self.toString())) {
      return;
    }
    applyChangedData();
    for (int i = 0; i < dataKeys.size(); i++) {
      Map<String, List<NameEntry>> stale = new HashMap<>();
      replica
          .get(i)
          .forEach(
              (name, set) ->
                  set.stream()
                      .filter(e -> e.node().equals(node) && e.registeredAt() < before)
                      .forEach(e -> stale.computeIfAbsent(name, n -> new ArrayList<>()).add(e)));
      if (!stale.isEmpty()) {
        getContext().getLog().debug("Pruning names {} of removed node [{}]", stale.keySet(), node);
        Key<ORMultiMap<String, NameEntry>> key = dataKeys.get(i);
        replicator.askUpdate(
            replyTo ->
                new Replicator.Update<>(
                    key,
                    ORMultiMap.emptyWithValueDeltas(),
                    Replicator.writeLocal(),
                    replyTo,
                    map -> {
                      ORMultiMap<String, NameEntry> result = map;
                      for (Map.Entry<String, List<NameEntry>> e : stale.entrySet()) {
                        for (NameEntry entry : e.getValue()) {
                          result = result.removeBinding(selfUniqueAddress, e.getKey(), entry);
                        }
                      }
                      return result;
                    }),
            response -> new Written(false));
      }
    }
  }

  // ---- view and duplicates ----

  /**
   * Republishes the names marked since the last batch, then settles duplicates among this node's
   * holders of those names (of every name after a membership change), which marks more.
   */
  private void publishNames() {
    List<Local> candidates = new ArrayList<>();
    if (membershipChanged) {
      membershipChanged = false;
      candidates.addAll(localByRef.values());
    }
    do {
      for (String name : dirtyNames) {
        publish(name);
        candidates.addAll(localsByName.getOrDefault(name, Map.of()).values());
      }
      dirtyNames.clear();
      // A stopped duplicate marks its name again; the next round republishes it.
      resolveDuplicates(candidates);
      candidates.clear();
    } while (!dirtyNames.isEmpty());
  }

  /**
   * Publishes the holders of {@code name}: the replica's, less the entries of this node it no
   * longer holds (removal on its way to the replica), plus this node's own (read-your-writes).
   */
  private void publish(String name) {
    List<NameEntry> holders = new ArrayList<>();
    String selfNode = self.toString();
    for (NameEntry entry : replica.get(keyIndex(name)).getOrDefault(name, Set.of())) {
      if (!entry.node().equals(selfNode) || localByRef.containsKey(entry.ref() + "#" + name)) {
        holders.add(entry);
      }
    }
    for (Local local : localsByName.getOrDefault(name, Map.of()).values()) {
      if (!holders.contains(local.entry())) {
        holders.add(local.entry());
      }
    }
    if (holders.isEmpty()) {
      names.remove(name);
    } else {
      holders.sort(NameEntry.OLDEST_FIRST);
      names.put(name, List.copyOf(holders));
    }
  }

  /** Stops (or tells) each of {@code candidates} that lost its name to an older available one. */
  private void resolveDuplicates(List<Local> candidates) {
    AddressBookView view = holder.view();
    for (Local local : candidates) {
      String id = local.entry().ref() + "#" + local.name();
      Optional<NameEntry> winner = view.winner(local.name());
      if (localByRef.get(id) != local || winner.isEmpty() || winner.get().equals(local.entry())) {
        continue;
      }
      getContext()
          .getLog()
          .info(
              "Name [{}] is held by an older actor [{}] on [{}]; {} the younger duplicate [{}]",
              local.name(),
              winner.get().ref(),
              winner.get().node(),
              local.onDup().isPresent() ? "telling" : "stopping",
              local.ref());
      removeLocal(id);
      Set<String> watchedNames = refsWatched.get(local.ref());
      if (watchedNames != null) {
        watchedNames.remove(local.name());
        if (watchedNames.isEmpty()) {
          refsWatched.remove(local.ref());
          getContext().unwatch(local.ref());
        }
      }
      removeBinding(local.name(), local.entry());
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
    QueryState state = new QueryState(cmd.replyTo(), dataKeys.size());
    Replicator.ReadConsistency majority = new Replicator.ReadMajority(cmd.timeout());
    for (Key<ORMultiMap<String, NameEntry>> key : dataKeys) {
      replicator.askGet(
          replyTo -> new Replicator.Get<>(key, majority, replyTo),
          rsp -> new QueryPart(state, rsp));
    }
    return this;
  }

  private Behavior<Command> onQueryPart(QueryPart msg) {
    QueryState state = msg.state();
    if (state.failed) {
      return this;
    }
    if (msg.rsp() instanceof Replicator.GetSuccess<ORMultiMap<String, NameEntry>> success) {
      success
          .dataValue()
          .getEntries()
          .forEach(
              (name, set) -> {
                List<NameEntry> sorted = new ArrayList<>(set);
                sorted.sort(NameEntry.OLDEST_FIRST);
                state.names.put(name, sorted);
              });
    } else if (!(msg.rsp() instanceof Replicator.NotFound)) {
      state.failed = true;
      state.replyTo.tell(
          StatusReply.error(
              new TimeoutException(
                  "address book query: no majority of nodes answered for key ["
                      + msg.rsp().key().id()
                      + "] in time")));
      return this;
    }
    if (--state.pending == 0) {
      AddressBookView view = holder.view();
      Map<String, Address> result = new TreeMap<>();
      state.names.forEach(
          (name, entries) ->
              view.winner(entries)
                  .ifPresent(w -> result.put(name, view.ringNodes().get(w.node()))));
      state.replyTo.tell(StatusReply.success(Map.copyOf(result)));
    }
    return this;
  }

  private int keyIndex(String name) {
    return Math.floorMod(name.hashCode(), dataKeys.size());
  }
}
