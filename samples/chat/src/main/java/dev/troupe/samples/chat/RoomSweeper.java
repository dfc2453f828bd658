package dev.troupe.samples.chat;

import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.CronDone;
import dev.troupe.cron.CronTick;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The target of the cron job {@code close-idle-rooms} (every minute, once in the cluster): tells
 * every running room to close if nobody posted in it for {@code chat.idle-room-timeout}. One
 * sweeper per node, in worker group {@link #GROUP}; the job picks one.
 */
final class RoomSweeper {
  static final WorkerGroup<CronTick> GROUP = WorkerGroup.of("chat-room-sweepers", CronTick.class);
  static final String JOB = "close-idle-rooms";

  private RoomSweeper() {}

  static Behavior<CronTick> create(WorkerFleet<Room.Command> rooms, Duration idle) {
    return Behaviors.setup(
        ctx ->
            Behaviors.receiveMessage(
                tick -> {
                  rooms
                      .activeKeys()
                      .whenComplete(
                          (keys, failure) -> {
                            if (failure == null) {
                              Map<String, Room.Command> close = new HashMap<>();
                              keys.forEach(
                                  k -> close.put(k, new Room.CloseIfIdle(idle.toMillis())));
                              rooms.publish(close);
                            } else {
                              ctx.getSystem()
                                  .log()
                                  .warn("close-idle-rooms: no room list: {}", failure.getMessage());
                            }
                            tick.replyTo()
                                .ifPresent(
                                    r ->
                                        r.tell(
                                            new CronDone(tick.idempotencyKey(), failure == null)));
                          });
                  return Behaviors.same();
                }));
  }
}
