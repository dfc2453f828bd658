package dev.troupe.sharding.internal;

import com.github.benmanes.caffeine.cache.Cache;
import dev.troupe.sharding.ReadCache;
import dev.troupe.sharding.Versioned;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * INTERNAL API. The node's {@link ReadCache}s, one per repository name, and the actors that carry
 * their invalidations.
 */
public final class CacheExtension implements Extension {
  /*
   * One cache per actor system and repository name, so that all workers and readers of a node share
   * its entries and its invalidation subscription (and a second ReadCache.create is cheap). The map
   * is filled with computeIfAbsent: concurrent creates for one name build one cache; a factory that
   * throws leaves no entry. Caches live as long as the actor system; their actors are system
   * actors (/system/troupeCache...-<url-encoded name>) and stop with it.
   */

  private static final Id ID = new Id();

  private final ActorSystem<?> system;
  private final ConcurrentHashMap<String, ReadCache<?>> caches = new ConcurrentHashMap<>();

  private CacheExtension(ActorSystem<?> system) {
    this.system = system;
  }

  /** The extension of {@code system}, created on first call. */
  public static CacheExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The cache of {@code repository} on this node, built by {@code factory} on first call. */
  public ReadCache<?> cache(String repository, Supplier<ReadCache<?>> factory) {
    return caches.computeIfAbsent(repository, name -> factory.get());
  }

  /**
   * Starts the pub-sub topic of {@code repository}'s invalidations on this node and a listener that
   * applies them to {@code cache}; returns the topic, to publish to.
   */
  public ActorRef<Topic.Command<InvalidationListener.Invalidated>> startInvalidation(
      String repository, Cache<String, ? extends Versioned<?>> cache) {
    String suffix = URLEncoder.encode(repository, StandardCharsets.UTF_8);
    ActorRef<Topic.Command<InvalidationListener.Invalidated>> topic =
        system.systemActorOf(
            InvalidationListener.topic(repository), "troupeCacheTopic-" + suffix, Props.empty());
    system.systemActorOf(
        Behaviors.supervise(InvalidationListener.create(topic, cache))
            .onFailure(SupervisorStrategy.restart()),
        "troupeCacheListener-" + suffix,
        Props.empty());
    return topic;
  }

  /** The extension's id; Pekko keeps one extension per id and system. */
  static final class Id extends ExtensionId<CacheExtension> {
    @Override
    public CacheExtension createExtension(ActorSystem<?> system) {
      return new CacheExtension(system);
    }
  }
}
