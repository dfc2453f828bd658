package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.lock.internal.LockKeys;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The lock contract on PostgreSQL advisory locks, and their faults. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class JdbcLockRegistryPostgresTest extends LockRegistryContract {
  private TestDatabases.TestDatabase db;
  private LockSettings settings;

  @BeforeAll
  void openDatabase() {
    db = TestDatabases.freshPostgres();
    // A namespace of its own: advisory locks are per database, not per schema.
    settings = LockSettings.defaults().withNamespace("test-" + UUID.randomUUID());
  }

  @AfterAll
  void closeDatabase() {
    if (db != null) {
      db.close();
    }
  }

  @Override
  protected LockRegistry createRegistry() {
    return JdbcLockRegistry.create(db.storage(), "pg-test-" + UUID.randomUUID(), settings);
  }

  /** Heartbeats every 5 s, trusted for 7 s: a holder learns of a lost session up to 5 s late. */
  private LockSettings slowHeartbeats() {
    return LockSettings.fromConfig(
            com.typesafe.config.ConfigFactory.parseString(
                "troupe.lock { heartbeat-interval = 5s, heartbeat-timeout = 2s,"
                    + " server-keepalive.idle = 8s, lease-duration = 20s }"))
        .withNamespace(settings.namespace());
  }

  private JdbcLockRegistry registry() {
    return (JdbcLockRegistry) newRegistry();
  }

  private long advisoryLocksHeld(String qualified) throws SQLException {
    long key = LockKeys.keyOf(qualified);
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    + " AND classid = ? AND objid = ? AND objsubid = 1")) {
      s.setLong(1, key >>> 32);
      s.setLong(2, key & 0xFFFF_FFFFL);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void advisoryLocksAreUsedAndNoneIsLeftBehind() throws Exception {
    JdbcLockRegistry registry = registry();
    assertTrue(registry.isAdvisory());
    String id = freshId();
    String qualified = registry.namespace() + ":" + id;
    Lock lock = registry.tryAcquire(id).orElseThrow();
    assertEquals(1, advisoryLocksHeld(qualified), "held in pg_locks");
    await(lock.release());
    assertEquals(0, advisoryLocksHeld(qualified), "freed by pg_advisory_unlock");
    registry.tryAcquire(id).orElseThrow();
    registry.close();
    assertEquals(0, advisoryLocksHeld(qualified), "freed by close");
  }

  @Test
  void aTerminatedBackendLosesTheLockAndAnotherContenderTakesItWithALargerToken() throws Exception {
    JdbcLockRegistry holder = registry();
    String id = freshId();
    Lock lock = holder.tryAcquire(id).orElseThrow();
    CountDownLatch lost = new CountDownLatch(1);
    lock.onLost(lost::countDown);

    assertEquals(1, holder.terminateSessions(holder.owner()), "the holder's one lock session");
    assertTrue(lost.await(20, TimeUnit.SECONDS), "onLost after pg_terminate_backend");
    assertFalse(lock.isHeld());

    Lock next = await(registry().acquire(id, Duration.ofSeconds(20)));
    assertTrue(next.fencingToken() > lock.fencingToken(), lock + " then " + next);
    next.close();
  }

  @Test
  void theLockSessionCarriesTheOwnerInItsApplicationName() throws Exception {
    JdbcLockRegistry registry = registry();
    Lock lock = registry.tryAcquire(freshId()).orElseThrow();
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
      s.setString(1, dev.troupe.core.lock.internal.AdvisoryLocks.applicationName(registry.owner()));
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        assertEquals(1, rs.getInt(1));
      }
    }
    lock.close();
  }

  @Test
  void aHashCollisionIsAnErrorNotASharedLock() throws Exception {
    JdbcLockRegistry registry = registry();
    String id = freshId();
    String qualified = registry.namespace() + ":" + id;
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("INSERT INTO troupe_lock_key (lock_key, name) VALUES (?, ?)")) {
      s.setLong(1, LockKeys.keyOf(qualified));
      s.setString(2, "someone-else");
      s.executeUpdate(); // as if another name hashed to the same key
    }
    IllegalStateException collision =
        assertThrows(IllegalStateException.class, () -> registry.tryAcquire(id));
    assertTrue(collision.getMessage().contains("someone-else"), collision.getMessage());
    assertTrue(collision.getMessage().contains(qualified), collision.getMessage());
  }

  @Test
  void aStaleTokenIsRejectedInsideTheWritersTransaction() throws Exception {
    JdbcLockRegistry registry = registry();
    String id = freshId();
    Lock first = registry.tryAcquire(id).orElseThrow();
    long stale = first.fencingToken();
    await(first.release());
    Lock second = registry().tryAcquire(id).orElseThrow();
    try (Connection c = db.storage().dataSource().getConnection()) {
      c.setAutoCommit(false);
      assertThrows(StaleTokenException.class, () -> registry.requireCurrentToken(c, id, stale));
      c.rollback();
      registry.requireCurrentToken(c, id, second.fencingToken());
      c.commit();
    }
    second.close();
  }

  @Test
  void aLockTakenRightAfterAServerRestartIsOursOnlyOnceTheFormerHolderNoLongerBelievesItHoldsIt()
      throws Exception {
    TestDatabases.assumePostgresRestartable();
    // Heartbeats every 5 s: the former holder learns of the restart up to 5 s late, and believes
    // until then (it trusts a heartbeat for heartbeat-interval + heartbeat-timeout = 7 s).
    LockSettings slow = slowHeartbeats();
    JdbcLockRegistry former =
        JdbcLockRegistry.create(db.storage(), "pg-former-" + UUID.randomUUID(), slow);
    JdbcLockRegistry successor =
        JdbcLockRegistry.create(db.storage(), "pg-successor-" + UUID.randomUUID(), slow);
    String id = freshId();
    Lock held = former.tryAcquire(id).orElseThrow();

    TestDatabases.restartPostgres();
    // The restart freed the lock; the successor's acquire retries until the server is back. When
    // it completes, the former holder - which learns of the restart only at its next heartbeat -
    // must already have stopped believing it holds the lock.
    Lock taken = successor.acquire(id, Duration.ofSeconds(60)).toCompletableFuture().join();
    boolean formerStillBelieved = held.isHeld();
    try {
      assertFalse(formerStillBelieved, "the former holder still believed it held the lock");
      assertTrue(taken.isHeld(), "the successor holds it when acquire completes");
      assertTrue(taken.fencingToken() > held.fencingToken());
    } finally {
      taken.close();
      former.close();
      successor.close();
    }
  }

  @Test
  void aLockFreedBySessionFencingIsTheSuccessorsOnlyOnceTheFencedHolderNoLongerBelieves()
      throws Exception {
    // The holder is alive (a member removed from the cluster behind a partition, say) and
    // heartbeats every 5 s; the session fencer ends its sessions, which frees its advisory lock.
    LockSettings slow = slowHeartbeats();
    String formerOwner = "pg-fenced-" + UUID.randomUUID();
    JdbcLockRegistry former = JdbcLockRegistry.create(db.storage(), formerOwner, slow);
    JdbcLockRegistry successor =
        JdbcLockRegistry.create(db.storage(), "pg-successor-" + UUID.randomUUID(), slow);
    String id = freshId();
    Lock held = former.tryAcquire(id).orElseThrow();
    try {
      assertTrue(
          dev.troupe.core.storage.internal.NodeSessions.terminate(db.storage(), formerOwner) > 0,
          "the former holder's lock session was ended");
      Lock taken = successor.acquire(id, Duration.ofSeconds(30)).toCompletableFuture().join();
      boolean formerStillBelieved = held.isHeld();
      taken.close();
      assertFalse(formerStillBelieved, "the fenced holder still believed it held the lock");
      assertTrue(taken.fencingToken() > held.fencingToken());
    } finally {
      former.close();
      successor.close();
    }
  }

  @Test
  void aServerRestartLosesEveryLockAndTheyCanBeTakenAgainAfterwards() throws Exception {
    TestDatabases.assumePostgresRestartable();
    JdbcLockRegistry registry = registry();
    String id = freshId();
    Lock lock = registry.tryAcquire(id).orElseThrow();
    CountDownLatch lost = new CountDownLatch(1);
    lock.onLost(lost::countDown);

    TestDatabases.restartPostgres();
    assertTrue(lost.await(30, TimeUnit.SECONDS), "onLost after the restart");
    assertFalse(lock.isHeld());
    Eventually.awaitAssert(
        Duration.ofSeconds(60),
        "the lock taken again after the restart",
        () -> {
          Lock again = registry.tryAcquire(id).orElseThrow(() -> new AssertionError("not free"));
          assertTrue(again.fencingToken() > lock.fencingToken());
          again.close();
        });
  }
}
