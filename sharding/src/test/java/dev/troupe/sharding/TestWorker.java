package dev.troupe.sharding;

import dev.troupe.core.TroupeSerializable;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A fleet worker for tests. Its durable state is a counter per key in {@link #STORE} (standing in
 * for a repository: loaded at every start, written on every increment), so a restarted or moved
 * worker continues where it was; every message it handles is counted in {@link #HANDLED}.
 */
final class TestWorker {
  private TestWorker() {}

  /** The worker's protocol. */
  sealed interface Command extends TroupeSerializable {}

  /** Adds one to the key's counter. */
  record Increment() implements Command {}

  /** Replies with the counter. */
  record Get(ActorRef<Long> replyTo) implements Command {}

  /** Replies with the address of the node the worker runs on. */
  record Where(ActorRef<String> replyTo) implements Command {}

  /** Throws: the worker fails. */
  record Crash() implements Command {}

  /** A broadcast query: "crash-" keys fail on it, "silent-" keys never answer. */
  record Query(ActorRef<String> replyTo) implements Command {}

  /** The stop message of fleets that use one. */
  record Stop() implements Command {}

  /** Durable counters, shared by every node of the JVM. */
  static final Map<String, AtomicLong> STORE = new ConcurrentHashMap<>();

  /** Messages handled, per key. */
  static final Map<String, AtomicLong> HANDLED = new ConcurrentHashMap<>();

  /** A worker stopped at {@code stopNanos}; its last message came at {@code lastNanos}. */
  record Stopped(String key, long stopNanos, long lastNanos) {}

  /** Stops of workers, in order. */
  static final BlockingQueue<Stopped> STOPS = new LinkedBlockingQueue<>();

  static long stored(String key) {
    AtomicLong value = STORE.get(key);
    return value == null ? 0 : value.get();
  }

  static long handled(String key) {
    AtomicLong value = HANDLED.get(key);
    return value == null ? 0 : value.get();
  }

  static Behavior<Command> create(String key) {
    return Behaviors.setup(
        ctx -> {
          AtomicLong counter = STORE.computeIfAbsent(key, k -> new AtomicLong());
          long loaded = counter.get(); // "reload from the repository"
          long[] lastMessage = {System.nanoTime()};
          String node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Command.class,
                  msg -> {
                    lastMessage[0] = System.nanoTime();
                    HANDLED.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
                    if (msg instanceof Increment) {
                      counter.incrementAndGet();
                    } else if (msg instanceof Get get) {
                      get.replyTo().tell(counter.get());
                    } else if (msg instanceof Where where) {
                      where.replyTo().tell(node);
                    } else if (msg instanceof Crash) {
                      throw new IllegalStateException("worker [" + key + "] told to crash");
                    } else if (msg instanceof Query query) {
                      if (key.startsWith("crash-")) {
                        throw new IllegalStateException("worker [" + key + "] fails on queries");
                      }
                      if (!key.startsWith("silent-")) {
                        query.replyTo().tell(key + "@" + loaded);
                      }
                    } else if (msg instanceof Stop) {
                      return Behaviors.stopped();
                    }
                    return Behaviors.same();
                  })
              .onSignal(
                  PostStop.class,
                  signal -> {
                    STOPS.add(new Stopped(key, System.nanoTime(), lastMessage[0]));
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
