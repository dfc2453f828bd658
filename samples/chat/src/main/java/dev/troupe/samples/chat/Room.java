package dev.troupe.samples.chat;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.Versioned;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

/**
 * A chat room: a worker of the {@code rooms} fleet, keyed by room id, started on demand on the
 * room's ring owner and restarted elsewhere when its node dies. Its latest messages live in a
 * {@link Repository} (write-through: a post is acknowledged once it is stored); its participants
 * are gateway actors on any node, which it tells every new message.
 */
final class Room extends AbstractBehavior<Room.Command> {

  /** The room's protocol; it crosses nodes. */
  sealed interface Command extends TroupeSerializable {}

  /** {@code gateway} joins as {@code user}; it gets the history and the room's messages. */
  record Join(String user, ActorRef<Gateway.Event> gateway) implements Command {}

  /** {@code gateway} leaves. */
  record Leave(ActorRef<Gateway.Event> gateway) implements Command {}

  /**
   * Posts {@code text}; the gateway gets {@link Gateway.Acked} once it is stored. A gateway that is
   * not a participant yet (the room restarted since it joined) joins with the post.
   */
  record Post(String user, String id, String text, ActorRef<Gateway.Event> gateway)
      implements Command {}

  /**
   * The fleet's stop message (passivation, or the room moving to another node): the room stops once
   * the posts it holds are stored and acknowledged. Stopped at once instead, a room whose write was
   * in flight stored the post but never acknowledged it (ChatFuzzIT saw one during the rebalance
   * after start-up).
   */
  record Stop() implements Command {}

  /** Closes the room, telling its participants, if nobody posted for {@code idleMillis}. */
  record CloseIfIdle(long idleMillis) implements Command {}

  /**
   * Tells {@code to} (a room-stats instance that just started) the room's counts, which it
   * otherwise sends only when they change.
   */
  record ReportStats(ActorRef<RoomStats.Command> to) implements Command {}

  private record Loaded(Versioned<RoomState> state) implements Command {}

  private record LoadFailed(String reason) implements Command {}

  private record Saved(List<Post> posts, List<ChatMessage> messages, Versioned<RoomState> state)
      implements Command {}

  private record SaveFailed(List<Post> posts, String reason) implements Command {}

  private record GatewayGone(ActorRef<Gateway.Event> gateway) implements Command {}

  /** What a room needs from its node. */
  record Env(
      Repository<RoomState> repository,
      ChatStore store,
      Supplier<List<WorkerEntry<Gateway.Event>>> gateways,
      Consumer<RoomStats.Update> stats,
      String node,
      int historySize,
      Clock clock) {}

  private final String id;
  private final Env env;
  private final Executor blocking;
  private final Map<ActorRef<Gateway.Event>, String> participants = new LinkedHashMap<>();
  private final List<Post> queued = new ArrayList<>();
  private Versioned<RoomState> state;
  private boolean saving;
  private boolean stopping;
  private final long startedAt;

  private Room(ActorContext<Command> ctx, String id, Env env, Versioned<RoomState> state) {
    super(ctx);
    this.id = id;
    this.env = env;
    this.state = state;
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.startedAt = env.clock().millis();
  }

  /** The room {@code id}: loads its state, then asks every gateway that was in it to join again. */
  static Behavior<Command> create(String id, Env env) {
    return Behaviors.withStash(
        10_000,
        stash ->
            Behaviors.setup(
                ctx -> {
                  Executor blocking =
                      ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
                  ctx.pipeToSelf(
                      CompletableFuture.supplyAsync(
                          () ->
                              env.repository()
                                  .load(id)
                                  .orElse(new Versioned<>(RoomState.empty(), 0)),
                          blocking),
                      (loaded, failure) ->
                          failure == null
                              ? new Loaded(loaded)
                              : new LoadFailed(String.valueOf(failure.getMessage())));
                  return loading(ctx, id, env, stash);
                }));
  }

  private static Behavior<Command> loading(
      ActorContext<Command> ctx, String id, Env env, StashBuffer<Command> stash) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Loaded.class,
            loaded -> {
              Room room = new Room(ctx, id, env, loaded.state());
              room.announceRestart();
              return stash.unstashAll(room);
            })
        .onMessage(
            LoadFailed.class,
            failed -> {
              throw new IllegalStateException("room [" + id + "] cannot load: " + failed.reason());
            })
        .onAnyMessage(
            msg -> {
              stash.stash(msg);
              return Behaviors.same();
            })
        .build();
  }

  /** Gateways that were in this room before it (re)started join again. */
  private void announceRestart() {
    for (WorkerEntry<Gateway.Event> gateway : env.gateways().get()) {
      gateway.ref().tell(new Gateway.Rejoin(id));
    }
    report();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Join.class, this::onJoin)
        .onMessage(Leave.class, msg -> leave(msg.gateway()))
        .onMessage(GatewayGone.class, msg -> leave(msg.gateway()))
        .onMessage(Post.class, this::onPost)
        .onMessage(Saved.class, this::onSaved)
        .onMessage(SaveFailed.class, this::onSaveFailed)
        .onMessage(Stop.class, this::onStop)
        .onMessage(CloseIfIdle.class, this::onCloseIfIdle)
        .onMessage(
            ReportStats.class,
            msg -> {
              msg.to().tell(counts());
              return this;
            })
        .build();
  }

  private Behavior<Command> onJoin(Join join) {
    boolean added = participants.put(join.gateway(), join.user()) == null;
    if (added) {
      getContext().watchWith(join.gateway(), new GatewayGone(join.gateway()));
    }
    join.gateway().tell(new Gateway.History(id, state.value().history(), List.copyOf(users())));
    if (added) {
      presence();
    }
    return this;
  }

  private Behavior<Command> leave(ActorRef<Gateway.Event> gateway) {
    if (participants.remove(gateway) != null) {
      getContext().unwatch(gateway);
      presence();
    }
    return this;
  }

  private LinkedHashSet<String> users() {
    return new LinkedHashSet<>(participants.values());
  }

  private void presence() {
    Gateway.Presence presence = new Gateway.Presence(id, List.copyOf(users()));
    participants.keySet().forEach(g -> g.tell(presence));
    report();
  }

  private Behavior<Command> onPost(Post post) {
    if (!participants.containsKey(post.gateway())) {
      participants.put(post.gateway(), post.user()); // rejoin after a restart of the room
      getContext().watchWith(post.gateway(), new GatewayGone(post.gateway()));
    }
    queued.add(post);
    if (!saving) {
      saveQueued();
    }
    return this;
  }

  /** Stores every queued post in one write; acknowledges and fans out once it is stored. */
  private void saveQueued() {
    List<Post> posts = List.copyOf(queued);
    queued.clear();
    saving = true;
    long now = env.clock().millis();
    long seq = state.value().nextSeq();
    List<ChatMessage> messages = new ArrayList<>(posts.size());
    for (Post p : posts) {
      messages.add(new ChatMessage(id, seq++, p.user(), p.text(), now));
    }
    RoomState next = state.value().with(messages, env.historySize());
    long expected = state.version();
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> {
                  Versioned<RoomState> saved = env.repository().save(id, next, expected);
                  env.store().append(messages);
                  return saved;
                },
                blocking),
            (saved, failure) ->
                failure == null
                    ? new Saved(posts, messages, saved)
                    : new SaveFailed(posts, String.valueOf(failure.getMessage())));
  }

  private Behavior<Command> onSaved(Saved saved) {
    state = saved.state();
    saving = false;
    for (int i = 0; i < saved.posts().size(); i++) {
      Post post = saved.posts().get(i);
      ChatMessage message = saved.messages().get(i);
      post.gateway().tell(new Gateway.Acked(id, post.id(), message.seq()));
      Gateway.NewMessage event = new Gateway.NewMessage(message);
      participants.keySet().forEach(g -> g.tell(event));
    }
    report();
    if (!queued.isEmpty()) {
      saveQueued();
    } else if (stopping) {
      return Behaviors.stopped();
    }
    return this;
  }

  private Behavior<Command> onStop(Stop stop) {
    if (!saving && queued.isEmpty()) {
      return Behaviors.stopped();
    }
    stopping = true; // after the write in flight (and what is queued behind it)
    return this;
  }

  private Behavior<Command> onSaveFailed(SaveFailed failed) {
    getContext()
        .getLog()
        .warn("Room [{}]: {} post(s) not stored: {}", id, failed.posts().size(), failed.reason());
    for (Post post : failed.posts()) {
      post.gateway().tell(new Gateway.Rejected(id, post.id(), "not stored, post again"));
    }
    // Another instance may have written (after a failover): start again from what is stored.
    throw new IllegalStateException("room [" + id + "] could not store a post: " + failed.reason());
  }

  private Behavior<Command> onCloseIfIdle(CloseIfIdle close) {
    long last = Math.max(state.value().lastPostAt(), startedAt);
    if (saving || env.clock().millis() - last < close.idleMillis()) {
      return this;
    }
    String notice =
        "room closed: nobody posted for " + (close.idleMillis() / 60_000) + " minute(s)";
    participants.keySet().forEach(g -> g.tell(new Gateway.Closed(id, notice)));
    env.stats().accept(RoomStats.Update.closed(id));
    return Behaviors.stopped();
  }

  private void report() {
    env.stats().accept(counts());
  }

  private RoomStats.Update counts() {
    return new RoomStats.Update(
        id,
        env.node(),
        participants.size(),
        state.value().nextSeq() - 1,
        state.value().lastPostAt(),
        true);
  }
}
