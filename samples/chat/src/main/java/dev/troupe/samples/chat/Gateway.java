package dev.troupe.samples.chat;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerGroup;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

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
  private double tokens;
  private long refilledAt;

  private Gateway(
      ActorContext<Command> ctx,
      WorkerFleet<Room.Command> rooms,
      ChatSettings settings,
      ChatMetrics metrics,
      ActorRef<Out> out) {
    super(ctx);
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
    return Behaviors.setup(ctx -> new Gateway(ctx, rooms, settings, metrics, out));
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
        .onMessage(Acked.class, a -> send(ClientProtocol.ack(a.room(), a.id(), a.seq())))
        .onMessage(Rejected.class, r -> reject(r.reason() + " (room " + r.room() + ")", r.id()))
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
      rooms.tell(post.room(), new Room.Post(user, post.id(), post.text(), self));
    } else {
      send(ClientProtocol.pong());
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
