package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.internal.CacheSettings;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link ReadCache} on a two-node cluster whose nodes share one in-memory H2 database. Each test
 * uses repositories of its own, so it has its own caches and pub-sub topic.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ReadCacheIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger repositories = new AtomicInteger();

  record Profile(String name, List<String> tags) {}

  private String url;
  private TestCluster cluster;

  @BeforeAll
  void startTwoNodesOnOneDatabase() {
    url = TestDatabases.freshH2Url();
    cluster = TestCluster.start(2, "troupe.storage.url = \"" + url + "\"");
  }

  @AfterAll
  void stopAndDropTheDatabase() throws SQLException {
    if (cluster != null) {
      cluster.close();
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  private TroupeNode a() {
    return cluster.node(0);
  }

  private TroupeNode b() {
    return cluster.node(1);
  }

  private static Repository<Profile> repository(TroupeNode node, String name) {
    return Repository.create(Storage.get(node.system()), node.namespace(), name, Profile.class);
  }

  private static String freshName() {
    return "profiles-" + repositories.incrementAndGet();
  }

  /** Waits until the topic of every cache knows the topic of every other: invalidations flow. */
  private static void awaitTopicsConnected(ReadCache<?>... caches) {
    Eventually.awaitAssert(
        TIMEOUT,
        "the invalidation topic of [" + caches[0].name() + "] on every node to know every node",
        () -> {
          for (ReadCache<?> cache : caches) {
            int known = cache.topicInstanceCount().toCompletableFuture().join();
            assertEquals(caches.length, known, "topic instances known to " + cache);
          }
        });
  }

  @Test
  void aWriteOnOneNodeReplacesTheOldValueCachedOnAnother() {
    String name = freshName();
    ReadCache<Profile> onA = ReadCache.create(a(), repository(a(), name));
    ReadCache<Profile> onB = ReadCache.create(b(), repository(b(), name));
    awaitTopicsConnected(onA, onB);

    Profile first = new Profile("ann", List.of("new"));
    Versioned<Profile> v1 = onA.save("p-1", first, 0);
    assertEquals(Optional.of(v1), onA.peek("p-1"), "written through into A's cache");
    assertEquals(Optional.of(v1), onB.get("p-1"), "B loads version 1");
    assertEquals(Optional.of(v1), onB.peek("p-1"), "and caches it");

    Profile second = new Profile("ann", List.of("new", "vip"));
    Versioned<Profile> v2 = onA.save("p-1", second, v1.version());

    Eventually.awaitAssert(
        TIMEOUT,
        "B to drop version 1 of [p-1] after A wrote version 2",
        () -> assertEquals(Optional.empty(), onB.peek("p-1")));
    assertEquals(Optional.of(new Versioned<>(second, 2)), onB.get("p-1"));
    assertEquals(Optional.of(v2), onA.peek("p-1"), "A keeps its own write");
    assertEquals(Optional.of(v2), onB.peek("p-1"));
  }

  @Test
  void aStaleWriteConflictsAndDropsTheWritersStaleCopy() {
    String name = freshName();
    ReadCache<Profile> onA = ReadCache.create(a(), repository(a(), name));
    ReadCache<Profile> onB = ReadCache.create(b(), repository(b(), name));
    awaitTopicsConnected(onA, onB);
    Versioned<Profile> v1 = onA.save("p-1", new Profile("ann", List.of()), 0);
    assertEquals(Optional.of(v1), onB.get("p-1"));
    // Written behind B's back: B's copy is stale and no invalidation was sent.
    onA.repository().save("p-1", new Profile("ann", List.of("x")), 1);

    VersionConflictException e =
        assertThrows(
            VersionConflictException.class,
            () -> onB.save("p-1", new Profile("bob", List.of()), v1.version()));

    assertEquals(2, e.actualVersion());
    assertEquals(Optional.empty(), onB.peek("p-1"), "stale copy dropped");
    assertEquals(2, onB.get("p-1").orElseThrow().version());
  }

  @Test
  void theHitRatioCountsHitsAndMisses() {
    String name = freshName();
    ReadCache<Profile> cache = ReadCache.create(a(), repository(a(), name));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    cache.bindTo(registry);
    assertEquals(1.0, cache.hitRatio(), "no requests yet");

    assertEquals(Optional.empty(), cache.get("absent")); // miss, not cached
    assertEquals(Optional.empty(), cache.get("absent")); // miss again
    cache.repository().save("p-1", new Profile("ann", List.of()), 0);
    assertTrue(cache.get("p-1").isPresent()); // miss, loaded
    assertTrue(cache.get("p-1").isPresent()); // hit
    cache.save("p-2", new Profile("bob", List.of()), 0);
    assertTrue(cache.get("p-2").isPresent()); // hit: written through
    assertTrue(cache.peek("p-2").isPresent()); // peeks do not count
    assertTrue(cache.peek("p-3").isEmpty());

    assertEquals(2, cache.hitCount());
    assertEquals(3, cache.missCount());
    assertEquals(0.4, cache.hitRatio(), 1e-9);
    assertEquals(2.0, gets(registry, name, "hit"), "cache.gets{result=hit} in Micrometer");
    assertEquals(3.0, gets(registry, name, "miss"), "cache.gets{result=miss} in Micrometer");
  }

  private static double gets(SimpleMeterRegistry registry, String repository, String result) {
    return registry
        .get("cache.gets")
        .tags("cache", "troupe.fleet.cache", "repository", repository, "result", result)
        .functionCounter()
        .count();
  }

  @Test
  void aSecondCreateOnTheSameNodeReturnsTheSameCache() {
    String name = freshName();
    ReadCache<Profile> first = ReadCache.create(a(), repository(a(), name));

    assertSame(first, ReadCache.create(a(), repository(a(), name)), "same name, new repository");
    assertSame(first, ReadCache.create(a(), first.repository(), Duration.ofSeconds(1), 10));
    assertNotSame(first, ReadCache.create(b(), repository(b(), name)), "another node");
    assertNotSame(first, ReadCache.create(a(), repository(a(), freshName())), "another name");

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ReadCache.create(
                    a(),
                    Repository.create(
                        Storage.get(a().system()), a().namespace(), name, String.class)));
    assertTrue(e.getMessage().contains(Profile.class.getName()), e.getMessage());
    assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());

    IllegalArgumentException otherNamespace =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ReadCache.create(
                    a(),
                    Repository.create(
                        Storage.get(a().system()), "elsewhere", name, Profile.class)));
    assertTrue(
        otherNamespace.getMessage().contains("[" + a().namespace() + "], not [elsewhere]"),
        otherNamespace.getMessage());
  }

  @Test
  void invalidateAndDeleteRemoveTheKeyOnEveryNode() {
    String name = freshName();
    ReadCache<Profile> onA = ReadCache.create(a(), repository(a(), name));
    ReadCache<Profile> onB = ReadCache.create(b(), repository(b(), name));
    awaitTopicsConnected(onA, onB);
    onA.save("p-1", new Profile("ann", List.of()), 0);
    assertTrue(onB.get("p-1").isPresent());

    onB.invalidate("p-1");

    assertEquals(Optional.empty(), onB.peek("p-1"), "invalidated at once on B");
    Eventually.awaitAssert(
        TIMEOUT,
        "A to drop [p-1] after B invalidated it",
        () -> assertEquals(Optional.empty(), onA.peek("p-1")));
    assertTrue(onA.repository().load("p-1").isPresent(), "invalidate leaves the repository");

    assertTrue(onA.get("p-1").isPresent());
    assertTrue(onB.get("p-1").isPresent());
    assertTrue(onA.delete("p-1"));

    assertEquals(Optional.empty(), onA.peek("p-1"), "deleted at once on A");
    Eventually.awaitAssert(
        TIMEOUT,
        "B to drop [p-1] after A deleted it",
        () -> assertEquals(Optional.empty(), onB.peek("p-1")));
    assertEquals(Optional.empty(), onB.get("p-1"));
    assertFalse(onB.delete("p-1"), "already deleted");
  }

  @Test
  void settingsComeFromTroupeShardingCache() {
    CacheSettings defaults = CacheSettings.fromConfig(a().system().settings().config());
    assertEquals(new CacheSettings(Duration.ofMinutes(10), 100_000), defaults);

    IllegalArgumentException zeroTtl =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CacheSettings.fromConfig(
                    ConfigFactory.parseString(
                        "troupe.sharding.cache { ttl = 0s, maximum-size = 10 }")));
    assertTrue(zeroTtl.getMessage().contains("troupe.sharding.cache.ttl"), zeroTtl.getMessage());
    IllegalArgumentException noSize =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CacheSettings.fromConfig(
                    ConfigFactory.parseString(
                        "troupe.sharding.cache { ttl = 1s, maximum-size = lots }")));
    assertTrue(noSize.getMessage().contains("maximum-size"), noSize.getMessage());
  }

  @Test
  void badInputIsRejectedNamingTheValue() {
    String name = freshName();
    Repository<Profile> repo = repository(a(), name);
    ReadCache<Profile> cache = ReadCache.create(a(), repo);
    Profile profile = new Profile("ann", List.of());

    assertRejected("key must not be null", () -> cache.get(null));
    assertRejected("key must not be empty", () -> cache.get(""));
    assertRejected("key must not be null", () -> cache.peek(null));
    assertRejected("key must not be empty", () -> cache.peek(""));
    assertRejected("key must not be null", () -> cache.save(null, profile, 0));
    assertRejected("key must not be empty", () -> cache.save("", profile, 0));
    assertRejected("value of key [k] must not be null", () -> cache.save("k", null, 0));
    assertRejected("must be >= 0, got: -2", () -> cache.save("k", profile, -2));
    assertRejected("key must not be null", () -> cache.delete(null));
    assertRejected("key must not be empty", () -> cache.invalidate(""));
    assertRejected("registry must not be null", () -> cache.bindTo(null));
    assertEquals(List.of(), repo.keys(0, 10), "nothing was written");

    assertRejected("node must not be null", () -> ReadCache.create(null, repo));
    assertRejected("repository must not be null", () -> ReadCache.create(a(), null));
    assertRejected(
        "ttl must be > 0, got: PT0S",
        () -> ReadCache.create(a(), repository(a(), freshName()), Duration.ZERO, 10));
    assertRejected(
        "maximumSize must be > 0, got: 0",
        () -> ReadCache.create(a(), repository(a(), freshName()), Duration.ofMinutes(1), 0));
  }

  private static void assertRejected(String expectedInMessage, Executable call) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, call, expectedInMessage);
    assertTrue(
        e.getMessage().contains(expectedInMessage),
        "message [" + e.getMessage() + "] should contain [" + expectedInMessage + "]");
  }
}
