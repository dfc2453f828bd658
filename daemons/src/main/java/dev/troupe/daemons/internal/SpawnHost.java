package dev.troupe.daemons.internal;

import dev.troupe.core.AddressBook;
import dev.troupe.core.Location;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * INTERNAL API. Starts plain actors of this node's launchers on request from any node and names
 * them in the address book ({@code /system/troupeSpawnHost}, worker group {@code
 * troupe-spawn-hosts}): ergo's ForwardSpawn with SpawnRegister. Unlike a daemon, a spawned actor
 * has no epoch and is not kept alive: when it stops, its name is free again.
 */
public final class SpawnHost extends AbstractBehavior<SpawnHost.Command> {
  /*
   * One request at a time per name and node: the host checks that the address book knows the name
   * as absent (while the book settles after a membership change, it asks again every 250 ms for up
   * to 5 s), spawns the actor as its child, registers it, and answers with its ref once the
   * registration is in this node's replica. Two requests for one name picked on the same node are
   * serialised by this actor; a registration that loses to an older holder elsewhere (a request
   * that raced on another node during a membership change) finds the other holder in the book
   * afterwards, and the address book has stopped its actor: the request fails naming the holder.
   */

  /** The protocol of the spawn host. */
  public sealed interface Command {}

  /** Starts {@code name} from launcher {@code launcher} with {@code args}; answers its ref. */
  public record Spawn(
      String launcher,
      String name,
      List<Object> args,
      ActorRef<StatusReply<ActorRef<Object>>> replyTo)
      implements Command, TroupeSerializable {}

  /** A request waiting for the address book to settle, until {@code deadlineNanos}. */
  private record SpawnLater(Spawn spawn, long deadlineNanos) implements Command {}

  /** How long a request waits for the address book to tell a free name from an unknown one. */
  private static final Duration SETTLE_WAIT = Duration.ofSeconds(5);

  private static final Duration SETTLE_POLL = Duration.ofMillis(250);

  private record Registered(
      String name,
      ActorRef<Object> ref,
      Throwable failure,
      ActorRef<StatusReply<ActorRef<Object>>> replyTo)
      implements Command {}

  private final Map<String, Launcher<?>> launchers;
  private final AddressBook book;
  private final String self;
  private long spawned;

  private final TimerScheduler<Command> timers;

  private SpawnHost(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Map<String, Launcher<?>> launchers,
      AddressBook book) {
    super(ctx);
    this.timers = timers;
    this.launchers = launchers;
    this.book = book;
    this.self = ctx.getSystem().address().toString();
  }

  /** The spawn host of a node, with the node's launchers. */
  public static Behavior<Command> create(Map<String, Launcher<?>> launchers, AddressBook book) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new SpawnHost(ctx, timers, launchers, book)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Spawn.class, cmd -> onSpawn(cmd, System.nanoTime() + SETTLE_WAIT.toNanos()))
        .onMessage(SpawnLater.class, later -> onSpawn(later.spawn(), later.deadlineNanos()))
        .onMessage(Registered.class, this::onRegistered)
        .build();
  }

  @SuppressWarnings("unchecked")
  private Behavior<Command> onSpawn(Spawn cmd, long deadlineNanos) {
    Launcher<Object> launcher = (Launcher<Object>) launchers.get(cmd.launcher());
    if (launcher == null) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  "no launcher ["
                      + cmd.launcher()
                      + "] is registered on "
                      + self
                      + ": "
                      + launchers.keySet()));
      return this;
    }
    Location where = book.resolve(cmd.name());
    if (where instanceof Location.Unknown && System.nanoTime() < deadlineNanos) {
      // The address book is settling after a membership change: ask it again shortly.
      timers.startSingleTimer(new SpawnLater(cmd, deadlineNanos), SETTLE_POLL);
      return this;
    }
    if (!(where instanceof Location.Absent)) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  where instanceof Location.Found found
                      ? "the name [" + cmd.name() + "] is held by an actor on " + found.node()
                      : "the name ["
                          + cmd.name()
                          + "] is not known to be free yet ("
                          + ((Location.Unknown) where).reason()
                          + "); try again"));
      return this;
    }
    Behavior<Object> behavior;
    try {
      behavior = launcher.factory().apply(new DaemonSpec(cmd.name(), cmd.args(), 0));
    } catch (RuntimeException e) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  "launcher [" + cmd.launcher() + "] failed for [" + cmd.name() + "]: " + e));
      return this;
    }
    ActorRef<Object> ref = getContext().spawn(behavior, "spawned-" + ++spawned);
    getContext()
        .pipeToSelf(
            book.register(cmd.name(), ref, (Class<Object>) launcher.protocol()),
            (done, failure) -> new Registered(cmd.name(), ref, failure, cmd.replyTo()));
    return this;
  }

  private Behavior<Command> onRegistered(Registered msg) {
    if (msg.failure() != null) {
      getContext().stop(msg.ref());
      msg.replyTo()
          .tell(
              StatusReply.error(
                  "cannot name the actor [" + msg.name() + "]: " + msg.failure().getMessage()));
      return this;
    }
    Location where = book.resolve(msg.name());
    if (where instanceof Location.Found found && !found.node().toString().equals(self)) {
      // An older holder elsewhere won; the address book stops this one.
      msg.replyTo()
          .tell(
              StatusReply.error(
                  "the name [" + msg.name() + "] is held by an actor on " + found.node()));
      return this;
    }
    msg.replyTo().tell(StatusReply.success(msg.ref()));
    return this;
  }
}
