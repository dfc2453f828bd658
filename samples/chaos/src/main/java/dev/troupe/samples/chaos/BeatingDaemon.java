package dev.troupe.samples.chaos;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.daemons.DaemonSpec;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A daemon that makes a fenced write with its epoch every 100 ms ({@code beat}): the witness of
 * "one daemon per name" — a replaced instance whose write is still accepted is a violation.
 */
final class BeatingDaemon {
  /** The daemon's only message, its own timer. */
  enum Beat implements TroupeSerializable {
    INSTANCE
  }

  static final Duration INTERVAL = Duration.ofMillis(100);

  private BeatingDaemon() {}

  static Behavior<Beat> create(DaemonSpec spec, Fence fence, Witness witness, Executor io) {
    return Behaviors.setup(
        context -> {
          witness.emit("daemon_start", spec.name(), spec.epoch());
          // One write at a time: while the database hangs, beats are skipped rather than queued
          // behind it (a backlog would replay minutes of stale beats once it answers again).
          AtomicBoolean writing = new AtomicBoolean();
          return Behaviors.withTimers(
              timers -> {
                timers.startTimerWithFixedDelay(Beat.INSTANCE, INTERVAL);
                return Behaviors.receive(Beat.class)
                    .onMessage(
                        Beat.class,
                        beat -> {
                          if (!writing.compareAndSet(false, true)) {
                            return Behaviors.same();
                          }
                          io.execute(
                              () -> {
                                var event = witness.event("beat", spec.name(), spec.epoch());
                                try {
                                  event.put(
                                      "ok", fence.write("daemon:" + spec.name(), spec.epoch()));
                                } catch (Exception e) {
                                  event.put("ok", false).put("error", e.toString());
                                }
                                event.put("t", System.currentTimeMillis()); // after the write
                                writing.set(false);
                                witness.emit(event);
                              });
                          return Behaviors.same();
                        })
                    .onSignal(
                        PostStop.class,
                        stop -> {
                          witness.emit("daemon_stop", spec.name(), spec.epoch());
                          return Behaviors.same();
                        })
                    .build();
              });
        });
  }
}
