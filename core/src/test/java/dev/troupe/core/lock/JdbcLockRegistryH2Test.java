package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The lock contract on the lease table (H2), and what only leases do: expire and be taken over. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class JdbcLockRegistryH2Test extends LockRegistryContract {
  /** Short leases so that expiry tests take seconds: 1 s heartbeat, 1 s timeout, 3.5 s lease. */
  static final LockSettings FAST =
      LockSettings.fromConfig(
          ConfigFactory.parseString(
                  "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
                      + " lease-duration = 3500ms, retry-interval = 50ms }")
              .withFallback(ConfigFactory.defaultReference()));

  private TestDatabases.TestDatabase db;

  @BeforeAll
  void openDatabase() {
    db = TestDatabases.freshH2();
  }

  @AfterAll
  void closeDatabase() {
    if (db != null) {
      db.close();
    }
  }

  @Override
  protected LockRegistry createRegistry() {
    return JdbcLockRegistry.create(db.storage(), "h2-test-" + UUID.randomUUID(), FAST);
  }

  @Test
  void theLeaseTableIsUsedOutsidePostgres() {
    assertFalse(((JdbcLockRegistry) newRegistry()).isAdvisory());
  }

  @Test
  void aLeaseThatIsNotRenewedExpiresAndIsTakenOverWithALargerToken() throws Exception {
    String id = freshId();
    JdbcLockRegistry abandoned = JdbcLockRegistry.create(db.storage(), "abandoned", FAST);
    Lock old = abandoned.tryAcquire(id).orElseThrow();
    // Simulate a dead holder: stop its heartbeats without releasing (the registry's threads die).
    CountDownLatch lostSeen = new CountDownLatch(1);
    old.onLost(lostSeen::countDown);
    stopHeartbeats(abandoned);

    LockRegistry successor = newRegistry();
    assertTrue(successor.tryAcquire(id).isEmpty(), "not while the lease is valid");
    Lock taken = await(successor.acquire(id, Duration.ofSeconds(30)));
    assertTrue(taken.fencingToken() > old.fencingToken());
    assertFalse(old.isHeld(), "the old holder stopped trusting it before it expired");
    taken.close();
  }

  /** Stops the heartbeats of {@code registry} as if its process had died. */
  private static void stopHeartbeats(JdbcLockRegistry registry) throws Exception {
    java.lang.reflect.Field locks = JdbcLockRegistry.class.getDeclaredField("locks");
    locks.setAccessible(true);
    Object impl = locks.get(registry);
    java.lang.reflect.Field io =
        dev.troupe.core.lock.internal.JdbcLocks.class.getDeclaredField("io");
    io.setAccessible(true);
    ((dev.troupe.core.lock.internal.LockIo) io.get(impl)).close();
  }

  @Test
  void aHolderWhoseLeaseWasTakenOverLosesItAtTheNextRenewal() throws Exception {
    String id = freshId();
    JdbcLockRegistry registry = (JdbcLockRegistry) newRegistry();
    Lock lock = registry.tryAcquire(id).orElseThrow();
    CountDownLatch lost = new CountDownLatch(1);
    lock.onLost(lost::countDown);
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement steal =
            c.prepareStatement("UPDATE troupe_lock_lease SET holder = 'intruder' WHERE name = ?")) {
      steal.setString(1, registry.namespace() + ":" + id);
      assertEquals(1, steal.executeUpdate());
    }
    assertTrue(lost.await(20, TimeUnit.SECONDS), "onLost after the failed renewal");
    assertFalse(lock.isHeld());
  }

  @Test
  void aStaleTokenIsRejectedInsideTheWritersTransaction() throws Exception {
    String id = freshId();
    JdbcLockRegistry registry = (JdbcLockRegistry) newRegistry();
    Lock first = registry.tryAcquire(id).orElseThrow();
    long stale = first.fencingToken();
    await(first.release());
    Lock second = registry.tryAcquire(id).orElseThrow();
    try (Connection c = db.storage().dataSource().getConnection()) {
      c.setAutoCommit(false);
      registry.requireCurrentToken(c, id, second.fencingToken()); // the holder's write passes
      c.commit();
      StaleTokenException rejected =
          assertThrows(StaleTokenException.class, () -> registry.requireCurrentToken(c, id, stale));
      c.rollback();
      assertEquals(stale, rejected.token());
      assertEquals(second.fencingToken(), rejected.currentToken());
      assertTrue(rejected.getMessage().contains(id), rejected.getMessage());
    }
    second.close();
  }

  @Test
  void twoRegistriesOnTheSameFileDatabaseExcludeEachOther() {
    // Covered by the contract with two registries; here: the owner is visible in the table.
    JdbcLockRegistry registry = (JdbcLockRegistry) newRegistry();
    String id = freshId();
    Lock lock = registry.tryAcquire(id).orElseThrow();
    Eventually.awaitAssert(
        Duration.ofSeconds(10),
        "the holder row names the owner",
        () -> {
          try (Connection c = db.storage().dataSource().getConnection();
              PreparedStatement s =
                  c.prepareStatement("SELECT holder FROM troupe_lock_lease WHERE name = ?")) {
            s.setString(1, registry.namespace() + ":" + id);
            try (var rs = s.executeQuery()) {
              assertTrue(rs.next());
              assertTrue(rs.getString(1).startsWith(registry.owner()), rs.getString(1));
            }
          } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
          }
        });
    lock.close();
  }

  @Test
  void invalidSettingsNameTheKey() {
    IllegalArgumentException shortLease =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LockSettings.fromConfig(
                    ConfigFactory.parseString("troupe.lock.lease-duration = 2s")
                        .withFallback(ConfigFactory.defaultReference())));
    assertTrue(shortLease.getMessage().contains("troupe.lock.lease-duration"));
    IllegalArgumentException slowHeartbeat =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LockSettings.fromConfig(
                    ConfigFactory.parseString("troupe.lock.heartbeat-timeout = 10s")
                        .withFallback(ConfigFactory.defaultReference())));
    assertInstanceOf(IllegalArgumentException.class, slowHeartbeat);
    assertTrue(slowHeartbeat.getMessage().contains("server-keepalive"), slowHeartbeat.getMessage());
  }
}
