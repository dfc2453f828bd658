package dev.troupe.samples.chat;

import dev.troupe.core.TroupeSerializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The daemon {@code room-stats}: live counts per room for the dashboard. One instance runs in the
 * cluster (the daemons leader keeps it alive and moves it when its node dies); rooms send it an
 * {@link Update} whenever their participants or messages change, through the address book.
 */
final class RoomStats {
  static final String NAME = "room-stats";

  private RoomStats() {}

  sealed interface Command extends TroupeSerializable {}

  /**
   * A room's counts.
   *
   * @param open false when the room closed
   */
  record Update(
      String room, String node, int participants, long messages, long lastPostAt, boolean open)
      implements Command {
    static Update closed(String room) {
      return new Update(room, "", 0, 0, 0, false);
    }
  }

  record Get(ActorRef<Snapshot> replyTo) implements Command {}

  record Snapshot(List<Update> rooms) implements TroupeSerializable {}

  /**
   * An instance that first asks, through {@code askRooms}, every running room for its counts: an
   * instance that starts after a move or a restart would otherwise list only the rooms that change
   * from then on.
   */
  static Behavior<Command> create(Consumer<ActorRef<Command>> askRooms) {
    return Behaviors.setup(
        ctx -> {
          askRooms.accept(ctx.getSelf());
          return running(new TreeMap<>());
        });
  }

  private static Behavior<Command> running(Map<String, Update> rooms) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Update.class,
            u -> {
              if (u.open()) {
                rooms.put(u.room(), u);
              } else {
                rooms.remove(u.room());
              }
              return Behaviors.same();
            })
        .onMessage(
            Get.class,
            g -> {
              g.replyTo().tell(new Snapshot(List.copyOf(rooms.values())));
              return Behaviors.same();
            })
        .build();
  }
}
