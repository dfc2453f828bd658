package dev.troupe.sharding.internal;

import com.github.benmanes.caffeine.cache.Cache;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.sharding.Versioned;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * INTERNAL API. Subscribes one node's {@link dev.troupe.sharding.ReadCache} to its repository's
 * pub-sub topic and drops the entries that other nodes' writes made stale.
 */
public final class InvalidationListener extends AbstractBehavior<InvalidationListener.Command> {
  /*
   * Protocol: every node with a ReadCache for repository R runs a Topic actor for
   * "troupe-cache-" + R and one of these listeners subscribed to it. A cache that writes key k at
   * version n publishes Invalidated(k, n) after the database has committed; delete and
   * invalidate publish Invalidated(k, ALL_VERSIONS). The topic sends each message once to every
   * node with a subscriber, the publishing node included (harmless: it already holds version n,
   * or nothing).
   *
   * Consistency: the rule is "drop the entry if its version is older than the message's", applied
   * atomically with computeIfPresent. A late or duplicated message therefore never drops a newer
   * entry, and messages need no ordering. A load that is in flight when the message arrives holds
   * the entry's map bin (Caffeine computes under the ConcurrentHashMap lock), so the message waits
   * for the load and then drops what it loaded if that is older: a value read before the write
   * committed cannot survive the write's invalidation.
   *
   * Failures: Topic delivery is at most once. A message lost (node unreachable, topic not yet
   * discovered by the publisher) leaves a stale entry until the cache's TTL expires it, which is
   * what the ReadCache javadoc promises. The listener has no state of its own: it is supervised
   * with restart (see CacheExtension), and a restart subscribes again.
   */

  /** The version in an {@link Invalidated} that drops every cached version of the key. */
  public static final long ALL_VERSIONS = Long.MAX_VALUE;

  /** The listener's protocol. */
  public sealed interface Command {}

  /**
   * Key {@code key} changed to {@code version} on some node; drop cached versions older than it
   * ({@link #ALL_VERSIONS} for a delete or an explicit invalidation). Crosses the network.
   *
   * @param key the key
   * @param version the version written, or {@link #ALL_VERSIONS}
   */
  public record Invalidated(String key, long version) implements Command, TroupeSerializable {
    /** An invalidation of every version of {@code key}. */
    public static Invalidated allVersions(String key) {
      return new Invalidated(key, ALL_VERSIONS);
    }
  }

  /** The name of the pub-sub topic of repository {@code repository}. */
  public static String topicName(String repository) {
    return "troupe-cache-" + repository;
  }

  /** The behavior of a topic for repository {@code repository}'s invalidations. */
  public static Behavior<Topic.Command<Invalidated>> topic(String repository) {
    return Topic.create(Invalidated.class, topicName(repository));
  }

  /** A listener that subscribes to {@code topic} and applies its messages to {@code cache}. */
  public static Behavior<Command> create(
      ActorRef<Topic.Command<Invalidated>> topic, Cache<String, ? extends Versioned<?>> cache) {
    return Behaviors.setup(ctx -> new InvalidationListener(ctx, topic, cache));
  }

  private final Cache<String, ? extends Versioned<?>> cache;

  private InvalidationListener(
      ActorContext<Command> ctx,
      ActorRef<Topic.Command<Invalidated>> topic,
      Cache<String, ? extends Versioned<?>> cache) {
    super(ctx);
    this.cache = cache;
    ActorRef<Invalidated> self = ctx.getSelf().narrow();
    topic.tell(Topic.subscribe(self));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Invalidated.class, this::onInvalidated).build();
  }

  private Behavior<Command> onInvalidated(Invalidated msg) {
    boolean dropped = dropOlder(cache, msg.key(), msg.version());
    if (dropped && getContext().getLog().isDebugEnabled()) {
      getContext()
          .getLog()
          .debug(
              "Cache entry [{}] dropped: older than {}",
              msg.key(),
              msg.version() == ALL_VERSIONS ? "any version" : "version " + msg.version());
    }
    return this;
  }

  /**
   * Drops {@code key} from {@code cache} if its cached version is older than {@code version};
   * returns whether it did. Atomic per key; waits for a load of the key in progress.
   */
  public static <T extends Versioned<?>> boolean dropOlder(
      Cache<String, T> cache, String key, long version) {
    boolean[] dropped = {false};
    cache
        .asMap()
        .computeIfPresent(
            key,
            (k, cached) -> {
              if (cached.version() < version) {
                dropped[0] = true;
                return null;
              }
              return cached;
            });
    return dropped[0];
  }
}
