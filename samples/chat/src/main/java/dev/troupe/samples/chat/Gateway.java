package dev.troupe.samples.chat;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerGroup;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One browser's WebSocket connection on this node: parses its commands, lets it post only to rooms
 * it joined and at most {@code chat.rate-limit-per-second} times a second, forwards its commands to
 * the rooms (fleet workers, wherever they run) and writes what the rooms send back as JSON frames.
 * Every gateway is in worker group {@link #GROUP}, so a room that restarts on another node can ask
 * the gateways that were in it to join again.
 */
final class Gateway extends AbstractBehavior<Gateway.Command> {

  /** Every node's gateways. */
  static final WorkerGroup<Event> GROUP = WorkerGroup.of("chat-gateways", Event.class);

  /** How long a gateway closing its connection waits for the stream to end before it stops. */
  static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  /** Everything a gateway handles. */
  sealed interface Command {}

  /** A text frame from the browser. */
  record FromClient(String text) implements Command {}

  /** A frame larger than {@code chat.max-frame-bytes}: the connection is closed. */
  record TooBig(long bytes) implements Command {}

  /** A binary frame: refused, the connection stays. */
  record Binary() implements Command {}

  /** The browser went away. */
  record ClientGone() implements Command {}

  /** A post awaiting its room's answer. */
  private record PostKey(String room, String id) {}

  /** Looks for posts whose acknowledgement is overdue; ticks only while posts are pending. */
  private enum CheckAcks implements Command {
    INSTANCE
  }

  /** What rooms send to gateways; crosses nodes. */
  sealed interface Event extends Command, TroupeSerializable {}

  record History(String room, List<ChatMessage> messages, List<String> users) implements Event {}

  record NewMessage(ChatMessage message) implements Event {}

  record Acked(String room, String id, long seq) implements Event {}

  record Rejected(String room, String id, String reason) implements Event {}

  record Presence(String room, List<String> users) implements Event {}

  record Closed(String room, String notice) implements Event {}

  /** The room restarted: join it again if this gateway is in it. */
  record Rejoin(String room) implements Event {}

  /** What the gateway writes to the browser; {@link Close} ends the connection. */
  sealed interface Out {}

  record Frame(String json) implements Out {}

  record Close() implements Out {}

  private final WorkerFleet<Room.Command> rooms;
  private final ChatSettings settings;
  private final ChatMetrics metrics;
  private final ActorRef<Out> out;
  private final ActorRef<Event> self;
  private final Map<String, String> joined = new HashMap<>(); // room -> user
  // posts sent to their room and not yet acknowledged or refused, in sending order
  private final Map<PostKey, Long> pending = new LinkedHashMap<>(); // -> sent at (nanoTime)
  private final TimerScheduler<Command> timers;
  private double tokens;
  private long refilledAt;

  private Gateway(
      ActorContext<Command> ctx,
      WorkerFleet<Room.Command> rooms,
      ChatSettings settings,
      ChatMetrics metrics,
      ActorRef<Out> out,
      TimerScheduler<Command> timers) {
    super(ctx);
    this.timers = timers;
    this.rooms = rooms;
    this.settings = settings;
    this.metrics = metrics;
    this.out = out;
    this.self = ctx.getSelf().narrow();
    this.tokens = settings.ratePerSecond();
    this.refilledAt = System.nanoTime();
    metrics.connectionOpened();
  }

  static Behavior<Command> create(
      WorkerFleet<Room.Command> rooms,
      ChatSettings settings,
      ChatMetrics metrics,
      ActorRef<Out> out) {
    return Behaviors.withTimers(
        timers -> Behaviors.setup(ctx -> new Gateway(ctx, rooms, settings, metrics, out, timers)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(FromClient.class, this::onFromClient)
        .onMessage(TooBig.class, this::onTooBig)
        .onMessage(
            Binary.class, msg -> reject("binary frames are not supported: send JSON text", null))
        .onMessage(ClientGone.class, msg -> Behaviors.stopped())
        .onMessage(
            History.class, h -> send(ClientProtocol.history(h.room(), h.messages(), h.users())))
        .onMessage(NewMessage.class, this::onNewMessage)
        .onMessage(
            Acked.class,
            a -> {
              settled(a.room(), a.id());
              return send(ClientProtocol.ack(a.room(), a.id(), a.seq()));
            })
        .onMessage(
            Rejected.class,
            r -> {
              settled(r.room(), r.id());
              return reject(r.reason() + " (room " + r.room() + ")", r.id());
            })
        .onMessageEquals(CheckAcks.INSTANCE, this::onCheckAcks)
        .onMessage(Presence.class, p -> send(ClientProtocol.presence(p.room(), p.users())))
        .onMessage(Closed.class, this::onClosed)
        .onMessage(Rejoin.class, this::onRejoin)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  private Behavior<Command> send(String json) {
    out.tell(new Frame(json));
    return this;
  }

  private Behavior<Command> reject(String error, String id) {
    metrics.rejected();
    return send(ClientProtocol.error(error, id));
  }

  private Behavior<Command> onTooBig(TooBig msg) {
    metrics.rejected();
    out.tell(
        new Frame(
            ClientProtocol.error(
                "message too big: "
                    + msg.bytes()
                    + "+ bytes, at most "
                    + settings.maxFrameBytes()
                    + "; closing",
                null)));
    out.tell(new Close());
    // Not Behaviors.stopped(): the connection's sink watches this actor, and its cancellation
    // completes the outgoing side at once, dropping the error frame if it is still buffered. The
    // Close above ends the outgoing side after the frame; the stream then ends the incoming side,
    // whose ClientGone stops this gateway (or the grace timer does, should it never come).
    getContext().scheduleOnce(CLOSE_GRACE, getContext().getSelf(), new ClientGone());
    return Behaviors.receive(Command.class)
        .onMessage(ClientGone.class, gone -> Behaviors.stopped())
        .onSignal(PostStop.class, signal -> onStop())
        .onAnyMessage(ignored -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onFromClient(FromClient msg) {
    ClientProtocol.Command command;
    try {
      command = ClientProtocol.parse(msg.text(), settings.maxMessageChars());
    } catch (ClientProtocol.BadCommand e) {
      return reject(e.getMessage(), e.id);
    }
    if (command instanceof ClientProtocol.Join join) {
      int maxRooms = settings.limits().roomsPerConnection();
      if (!joined.containsKey(join.room()) && joined.size() >= maxRooms) {
        return reject(
            "at most "
                + maxRooms
                + " rooms per connection (chat.limits.rooms-per-connection): leave one first",
            null);
      }
      joined.put(join.room(), join.user());
      rooms.tell(join.room(), new Room.Join(join.user(), self));
    } else if (command instanceof ClientProtocol.Leave leave) {
      if (joined.remove(leave.room()) != null) {
        rooms.tell(leave.room(), new Room.Leave(self));
      }
    } else if (command instanceof ClientProtocol.Post post) {
      String user = joined.get(post.room());
      if (user == null) {
        return reject("join room [" + post.room() + "] before posting to it", post.id());
      }
      if (!takeToken()) {
        return reject(
            "rate limit: at most " + settings.ratePerSecond() + " messages a second", post.id());
      }
      metrics.posted();
      if (post.id() != null) { // without an id the client cannot match an ack or an error anyway
        if (pending.isEmpty()) {
          timers.startTimerAtFixedRate(CheckAcks.INSTANCE, settings.ackTimeout().dividedBy(5));
        }
        PostKey key = new PostKey(post.room(), post.id());
        pending.remove(key); // an id used again goes to the end: the map stays in sending order
        pending.put(key, System.nanoTime());
      }
      rooms.tell(post.room(), new Room.Post(user, post.id(), post.text(), self));
    } else {
      send(ClientProtocol.pong());
    }
    return this;
  }

  private void settled(String room, String id) {
    if (id != null && pending.remove(new PostKey(room, id)) != null && pending.isEmpty()) {
      timers.cancel(CheckAcks.INSTANCE);
    }
  }

  /**
   * Posts without an answer from their room for {@code chat.ack-timeout}: the client gets an error
   * naming each, since Pekko delivers at most once and a room's node may have died with the post in
   * flight. Its fate is unknown: stored if it appears (an ack that still comes is passed on).
   */
  private Behavior<Command> onCheckAcks() {
    long deadline = System.nanoTime() - settings.ackTimeout().toNanos();
    var overdue = pending.entrySet().iterator();
    while (overdue.hasNext()) {
      var e = overdue.next();
      if (e.getValue() - deadline > 0) {
        break; // insertion order: the rest were sent later
      }
      overdue.remove();
      reject(
          "no acknowledgement within "
              + settings.ackTimeout().toMillis()
              + " ms (room "
              + e.getKey().room()
              + "): the post may or may not be stored; post again if it does not appear",
          e.getKey().id());
    }
    if (pending.isEmpty()) {
      timers.cancel(CheckAcks.INSTANCE);
    }
    return this;
  }

  /** A token bucket of {@code chat.rate-limit-per-second}, refilled continuously. */
  private boolean takeToken() {
    long now = System.nanoTime();
    tokens =
        Math.min(
            settings.ratePerSecond(), tokens + (now - refilledAt) / 1e9 * settings.ratePerSecond());
    refilledAt = now;
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  private Behavior<Command> onNewMessage(NewMessage msg) {
    metrics.delivered(msg.message().at());
    return send(ClientProtocol.message(msg.message(), true));
  }

  private Behavior<Command> onClosed(Closed msg) {
    joined.remove(msg.room());
    return send(ClientProtocol.notice(msg.room(), msg.notice()));
  }

  private Behavior<Command> onRejoin(Rejoin msg) {
    String user = joined.get(msg.room());
    if (user != null) {
      rooms.tell(msg.room(), new Room.Join(user, self));
    }
    return this;
  }

  private Behavior<Command> onStop() {
    joined.keySet().forEach(room -> rooms.tell(room, new Room.Leave(self)));
    out.tell(new Close());
    metrics.connectionClosed();
    return this;
  }
}
