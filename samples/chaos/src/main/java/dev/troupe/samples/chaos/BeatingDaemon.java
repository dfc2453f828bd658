package dev.troupe.samples.chaos;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Daemons;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A daemon that makes a fenced write with its epoch every 100 ms ({@code beat}) while its node
 * holds its lease ({@link Daemons#leaseTrustedUntil}): the witness of "one daemon per name". A
 * replaced instance whose write is still accepted is a violation, and so is a beat of one instance
 * at a moment another instance of the name had started and not yet stopped (belief overlap).
 */
final class BeatingDaemon {
  /** The daemon's only message, its own timer. */
  enum Beat implements TroupeSerializable {
    INSTANCE
  }

  static final Duration INTERVAL = Duration.ofMillis(100);

  private BeatingDaemon() {}

  static Behavior<Beat> create(
      DaemonSpec spec, Daemons daemons, Fence fence, Witness witness, Executor io) {
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
                                // Act only while this node trusts the daemon's lease: right
                                // after a pause it no longer does, before a successor can run.
                                Optional<Instant> trusted = daemons.leaseTrustedUntil(spec);
                                if (trusted.isEmpty()) {
                                  writing.set(false);
                                  return;
                                }
                                var event = witness.event("beat", spec.name(), spec.epoch());
                                event.put("trusted_until", trusted.get().toEpochMilli());
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
