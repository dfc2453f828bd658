package dev.troupe.sharding;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.internal.CacheExtension;
import dev.troupe.sharding.internal.CacheSettings;
import dev.troupe.sharding.internal.InvalidationListener;
import dev.troupe.sharding.internal.InvalidationListener.Invalidated;
import dev.troupe.sharding.internal.JdbcRepository;
import dev.troupe.sharding.internal.KeyPages;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * A node-wide read cache in front of one {@link Repository}, shared by the node's fleet workers and
 * readers: reads are served from memory, writes go through to the repository and invalidate the
 * other nodes' copies.
 *
 * <pre>{@code
 * Repository<Cart> carts =
 *     Repository.create(Storage.get(node.system()), node.namespace(), "carts", Cart.class);
 * ReadCache<Cart> cache = ReadCache.create(node, carts);      // the same instance on every call
 * Optional<Versioned<Cart>> cart = cache.get("cart-42");      // loaded once, then from memory
 * cache.save("cart-42", updated, cart.get().version());       // write-through + invalidation
 * cache.bindTo(meterRegistry);                                // troupe.fleet.cache.* meters
 * }</pre>
 *
 * <p>There is one cache per node and repository name: a second {@link #create} for the same name on
 * the same node returns the first cache, with the first call's settings and repository (a
 * repository of that name with another value type or in another namespace is refused). Entries
 * expire {@code troupe.sharding.cache.ttl} after they were loaded or written, and the cache holds
 * at most {@code troupe.sharding.cache.maximum-size} entries (Caffeine's size-based eviction).
 *
 * <p><b>Consistency.</b> Writes through {@link #save}, {@link #delete} and {@link #invalidate}
 * update this node's cache at once and tell every other node that has a cache for the repository to
 * drop older versions of the key (through Pekko's distributed pub-sub, topic {@code
 * troupe-cache-<repository name>}). A reader on another node therefore never sees a value older
 * than the last acknowledged write plus the invalidation delay; a value loaded while a write was
 * committing is dropped too when that write's invalidation arrives. The delay is one pub-sub hop
 * (usually milliseconds) once the topic has discovered the other nodes. That discovery goes through
 * the receptionist: a cache created moments ago on a new node, and a node that joined moments ago,
 * may miss invalidations for a short while (typically a second or two), and so may a node that was
 * unreachable when they were sent. The {@code ttl} bounds how long such a node serves the stale
 * value. Writes that bypass the cache (straight to the {@link Repository}, or from another process)
 * are seen only after the {@code ttl}, or after {@link #invalidate}.
 *
 * <p>Absent keys are not cached: a {@link #get} of an absent key asks the repository every time.
 *
 * <p><b>Hot keys.</b> Each node also counts the {@link #get}s of each key, for at most {@value
 * #HOT_KEYS_TRACKED} keys (Caffeine's size bound keeps the most used ones) and each until it has
 * not been counted for {@code ttl}: {@link #hotKeys} lists the most read, so that a {@link
 * Reconciler} can keep them cached ({@link Reconciler.Builder#warmHottest}) and spare their readers
 * the first-hit load after an invalidation or expiry. The count is sampled: one {@code get} in
 * {@value #READ_SAMPLE}, at random, is counted, which keeps a {@code get} about as cheap as without
 * it (counting every one made a cached {@code get} 2 to 4 times slower) and ranks the keys read
 * often the same.
 *
 * <p>Thread-safe. {@link #get} (on a miss), {@link #save} and {@link #delete} block on the
 * repository's JDBC calls: call them from a worker's own thread or a blocking dispatcher.
 *
 * @param <V> the value type
 * @since 0.1.0
 */
public final class ReadCache<V> {
  /** The most keys whose reads a node counts for {@link #hotKeys}: {@value}. */
  public static final int HOT_KEYS_TRACKED = 10_000;

  /** One {@link #get} in this many, at random, counts for {@link #hotKeys}: {@value}. */
  public static final int READ_SAMPLE = 16;

  private static final Function<String, LongAdder> NEW_COUNTER = k -> new LongAdder();

  private final String name;
  private final Repository<V> repository;
  private final Cache<String, Versioned<V>> cache;
  private final Cache<String, LongAdder> reads;
  private final ActorSystem<?> system;
  private final ActorRef<Topic.Command<Invalidated>> topic;

  private ReadCache(ActorSystem<?> system, Repository<V> repository, CacheSettings settings) {
    this.name = repository.name();
    this.repository = repository;
    this.system = system;
    this.cache =
        Caffeine.newBuilder()
            .expireAfterWrite(settings.ttl())
            .maximumSize(settings.maximumSize())
            .recordStats()
            .build();
    this.reads =
        Caffeine.newBuilder()
            .expireAfterAccess(settings.ttl())
            .maximumSize(HOT_KEYS_TRACKED)
            .build();
    this.topic = CacheExtension.get(system).startInvalidation(name, cache);
  }

  /**
   * The cache of {@code repository} on {@code node}, created on first call with the settings of
   * {@code troupe.sharding.cache} in the node's configuration; later calls for a repository of the
   * same name return the same cache.
   *
   * @param node the node whose cache it is
   * @param repository the repository it caches
   * @return the node's cache for {@code repository.name()}
   * @throws IllegalArgumentException if an argument is null, {@code troupe.sharding.cache} is
   *     invalid (the message names the key), or the node already has a cache for a repository of
   *     that name with another value type or in another namespace
   */
  public static <V> ReadCache<V> create(TroupeNode node, Repository<V> repository) {
    requireNonNull(node, "node");
    requireNonNull(repository, "repository");
    return create(node, repository, CacheSettings.fromConfig(node.system().settings().config()));
  }

  /**
   * The cache of {@code repository} on {@code node}, created on first call with {@code ttl} and
   * {@code maximumSize}; later calls for a repository of the same name return the same cache, with
   * the settings it was created with.
   *
   * @param node the node whose cache it is
   * @param repository the repository it caches
   * @param ttl how long an entry stays after it was loaded or written; bounds how long a missed
   *     invalidation can leave a stale value
   * @param maximumSize the most entries the cache holds
   * @return the node's cache for {@code repository.name()}
   * @throws IllegalArgumentException if an argument is null, {@code ttl} is not positive, {@code
   *     maximumSize} is not positive, or the node already has a cache for a repository of that name
   *     with another value type or in another namespace
   */
  public static <V> ReadCache<V> create(
      TroupeNode node, Repository<V> repository, Duration ttl, long maximumSize) {
    requireNonNull(node, "node");
    requireNonNull(repository, "repository");
    return create(node, repository, new CacheSettings(ttl, maximumSize));
  }

  private static <V> ReadCache<V> create(
      TroupeNode node, Repository<V> repository, CacheSettings settings) {
    String name = requireNonNull(repository.name(), "repository.name()");
    ActorSystem<?> system = node.system();
    ReadCache<?> cache =
        CacheExtension.get(system).cache(name, () -> new ReadCache<>(system, repository, settings));
    checkSameRepository(cache.repository, repository);
    @SuppressWarnings("unchecked") // one cache per name; its value type is checked above
    ReadCache<V> typed = (ReadCache<V>) cache;
    return typed;
  }

  /**
   * Fails if both repositories know their value types and namespaces and these differ: the cache
   * would serve the other type's values, or another namespace's rows.
   */
  private static void checkSameRepository(Repository<?> existing, Repository<?> requested) {
    if (!(existing instanceof JdbcRepository<?> a && requested instanceof JdbcRepository<?> b)) {
      return;
    }
    if (!a.type().equals(b.type())) {
      throw new IllegalArgumentException(
          "ReadCache ["
              + a.name()
              + "] already exists on this node for values of "
              + a.type().getName()
              + ", not "
              + b.type().getName());
    }
    if (!a.namespace().equals(b.namespace())) {
      throw new IllegalArgumentException(
          "ReadCache ["
              + a.name()
              + "] already exists on this node for namespace ["
              + a.namespace()
              + "], not ["
              + b.namespace()
              + "]");
    }
  }

  /** The name of the cached repository. */
  public String name() {
    return name;
  }

  /** The cached repository. */
  public Repository<V> repository() {
    return repository;
  }

  /**
   * The value of {@code key}: this node's cached copy, or else loaded from the repository and
   * cached. Absent keys are not cached. Counts as a hit or a miss in {@link #hitRatio()}, and as a
   * read of {@code key} in {@link #hotKeys}.
   *
   * @return the value with its version; empty if the repository has no value for {@code key}
   * @throws IllegalArgumentException if {@code key} is null or empty, or the stored value cannot be
   *     read as the repository's type
   * @throws dev.troupe.core.storage.StorageException if the repository cannot be read
   */
  public Optional<Versioned<V>> get(String key) {
    checkKey(key);
    if ((ThreadLocalRandom.current().nextInt() & (READ_SAMPLE - 1)) == 0) {
      reads.get(key, NEW_COUNTER).increment();
    }
    return Optional.ofNullable(cache.get(key, k -> repository.load(k).orElse(null)));
  }

  /**
   * Loads {@code key} from the repository into this node's cache, unless it is cached already: a
   * warm-up before readers ask for it. Not a read: it counts neither in {@link #hitRatio()} nor in
   * {@link #hotKeys}. A concurrent write or invalidation of the key wins as it does over a {@link
   * #get}'s load.
   *
   * @return whether it loaded a value ({@code false}: cached already, or absent in the repository)
   * @throws IllegalArgumentException if {@code key} is null or empty, or the stored value cannot be
   *     read as the repository's type
   * @throws dev.troupe.core.storage.StorageException if the repository cannot be read
   * @since 0.3.0
   */
  public boolean warm(String key) {
    checkKey(key);
    if (cache.asMap().containsKey(key)) {
      return false;
    }
    boolean[] loaded = {false};
    // compute, not get: a get would count as a miss. Both load under the entry's lock, which an
    // invalidation of the key waits for (see InvalidationListener).
    cache
        .asMap()
        .compute(
            key,
            (k, present) -> {
              if (present != null) {
                return present;
              }
              Versioned<V> stored = repository.load(k).orElse(null);
              loaded[0] = stored != null;
              return stored;
            });
    return loaded[0];
  }

  /**
   * The keys read most on this node recently, most read first (ties in key order): up to {@code n}
   * of the at most {@value #HOT_KEYS_TRACKED} keys whose {@link #get}s it counts (one in {@value
   * #READ_SAMPLE}, at random), each until it goes uncounted for the cache's {@code ttl}. Keys that
   * are cached now are included; a key read only a few times may be missing.
   *
   * @throws IllegalArgumentException if {@code n} is not positive
   * @since 0.3.0
   */
  public List<String> hotKeys(int n) {
    requireArgument(n > 0, "ReadCache [" + name + "]: n must be > 0, got: " + n);
    Comparator<Map.Entry<String, Long>> hotter =
        Map.Entry.<String, Long>comparingByValue()
            .reversed()
            .thenComparing(Map.Entry.comparingByKey());
    PriorityQueue<Map.Entry<String, Long>> top = new PriorityQueue<>(hotter.reversed());
    for (Map.Entry<String, LongAdder> e : reads.asMap().entrySet()) {
      top.add(Map.entry(e.getKey(), e.getValue().sum()));
      if (top.size() > n) {
        top.poll(); // the coldest of the n + 1
      }
    }
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(top);
    sorted.sort(hotter);
    List<String> keys = new ArrayList<>(sorted.size());
    sorted.forEach(e -> keys.add(e.getKey()));
    return keys;
  }

  /**
   * This node's cached copy of {@code key}, without asking the repository; empty if none. Does not
   * count in {@link #hitRatio()}.
   *
   * @throws IllegalArgumentException if {@code key} is null or empty
   */
  public Optional<Versioned<V>> peek(String key) {
    checkKey(key);
    return Optional.ofNullable(cache.asMap().get(key));
  }

  /**
   * Saves {@code value} under {@code key} in the repository if its stored version is {@code
   * expectedVersion} ({@code 0} = the key must be new), then caches the new version on this node
   * and tells the other nodes to drop older versions of the key.
   *
   * <p>On a {@link VersionConflictException} this node's cached copy, which was evidently stale, is
   * dropped too, so that the next {@link #get} reloads the key.
   *
   * @return the value with its new version
   * @throws VersionConflictException if the stored version differs; nothing is changed
   * @throws IllegalArgumentException if {@code key} is null or empty, {@code value} null, {@code
   *     expectedVersion} negative, or the value cannot be serialized
   * @throws dev.troupe.core.storage.StorageException if the repository cannot be written
   */
  public Versioned<V> save(String key, V value, long expectedVersion) {
    checkKey(key);
    requireNonNull(value, "ReadCache [" + name + "]: value of key [" + key + "]");
    requireArgument(
        expectedVersion >= 0,
        "ReadCache ["
            + name
            + "]: expectedVersion of key ["
            + key
            + "] must be >= 0, got: "
            + expectedVersion);
    Versioned<V> saved;
    try {
      saved = repository.save(key, value, expectedVersion);
    } catch (VersionConflictException e) {
      long actual = e.actualVersion();
      InvalidationListener.dropOlder(
          cache, key, actual == 0 ? InvalidationListener.ALL_VERSIONS : actual);
      throw e;
    }
    // Never replace a newer version that a concurrent save or load has cached meanwhile.
    cache.asMap().merge(key, saved, (old, fresh) -> old.version() > fresh.version() ? old : fresh);
    topic.tell(Topic.publish(new Invalidated(key, saved.version())));
    return saved;
  }

  /**
   * Deletes {@code key} from the repository and drops it from the caches of every node.
   *
   * @return whether the key existed in the repository
   * @throws IllegalArgumentException if {@code key} is null or empty
   * @throws dev.troupe.core.storage.StorageException if the repository cannot be written
   */
  public boolean delete(String key) {
    checkKey(key);
    boolean existed = repository.delete(key);
    invalidateEverywhere(key);
    return existed;
  }

  /**
   * Drops {@code key} from this node's cache at once and from the other nodes' caches within the
   * invalidation delay; the next {@link #get} on each node reloads it. For changes made to the
   * repository without this cache.
   *
   * @throws IllegalArgumentException if {@code key} is null or empty
   */
  public void invalidate(String key) {
    checkKey(key);
    invalidateEverywhere(key);
  }

  private void invalidateEverywhere(String key) {
    cache.invalidate(key);
    topic.tell(Topic.publish(Invalidated.allVersions(key)));
  }

  /**
   * The share of {@link #get} calls served from this node's cache since it was created: {@code
   * hitCount / (hitCount + missCount)}, or {@code 1.0} before the first call.
   */
  public double hitRatio() {
    return cache.stats().hitRate();
  }

  /** How many {@link #get} calls this node's cache served from memory. */
  public long hitCount() {
    return cache.stats().hitCount();
  }

  /** How many {@link #get} calls asked the repository (absent keys included). */
  public long missCount() {
    return cache.stats().missCount();
  }

  /** The number of entries cached on this node, approximately (expired ones may still count). */
  public long size() {
    return cache.estimatedSize();
  }

  /**
   * The keys cached on this node right now (a snapshot, up to {@code limit} of them), for checks
   * such as the {@link Reconciler}'s.
   *
   * @throws IllegalArgumentException if {@code limit} is not positive
   */
  public List<String> cachedKeys(int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be > 0, got: " + limit);
    }
    List<String> keys = new ArrayList<>(Math.min(limit, 1024));
    for (String key : cache.asMap().keySet()) {
      if (keys.size() >= limit) {
        break;
      }
      keys.add(key);
    }
    return keys;
  }

  /**
   * Up to {@code limit} keys cached on this node right now that are greater than {@code afterKey}
   * ({@code null}: from the first), in ascending order: a cursor over the cache, as {@link
   * Repository#keysAfter} is over the repository. Reads every cached key to find them (the cache is
   * not sorted): O(size · log limit).
   *
   * @throws IllegalArgumentException if {@code limit} is not positive
   * @since 0.3.0
   */
  public List<String> cachedKeysAfter(String afterKey, int limit) {
    requireArgument(limit > 0, "ReadCache [" + name + "]: limit must be > 0, got: " + limit);
    return KeyPages.after(cache.asMap().keySet(), afterKey, limit);
  }

  /**
   * Registers this cache's meters in {@code registry} with Micrometer's Caffeine binder: {@code
   * cache.gets} (tag {@code result=hit|miss}), {@code cache.puts}, {@code cache.evictions}, {@code
   * cache.size} and the load meters, all tagged {@code cache=troupe.fleet.cache} and {@code
   * repository=<name>}. Binding the same registry twice registers nothing new.
   *
   * @throws IllegalArgumentException if {@code registry} is null
   */
  public void bindTo(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    CaffeineCacheMetrics.monitor(registry, cache, "troupe.fleet.cache", "repository", name);
  }

  /**
   * For tests: how many nodes' topic instances this node's topic currently knows (those with a
   * cache for this repository, this node included once its subscription is listed). Invalidations
   * reach exactly these nodes.
   */
  CompletionStage<Integer> topicInstanceCount() {
    return AskPattern.<Topic.Command<Invalidated>, Topic.TopicStats>ask(
            topic, Topic::getTopicStats, Duration.ofSeconds(5), system.scheduler())
        .thenApply(Topic.TopicStats::topicInstanceCount);
  }

  private void checkKey(String key) {
    requireNonNull(key, "ReadCache [" + name + "]: key");
    requireArgument(!key.isEmpty(), "ReadCache [" + name + "]: key must not be empty");
  }

  @Override
  public String toString() {
    return "ReadCache(" + name + ", " + cache.estimatedSize() + " entries)";
  }
}
