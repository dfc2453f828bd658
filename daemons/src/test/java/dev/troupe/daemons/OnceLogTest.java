package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class OnceLogTest {
  private TestDatabases.TestDatabase db;

  @BeforeAll
  void open() {
    db = TestDatabases.freshH2();
  }

  @AfterAll
  void close() {
    if (db != null) {
      db.close();
    }
  }

  private static CompletableFuture<Object> done() {
    return CompletableFuture.completedFuture(null);
  }

  @Test
  void eightRacersRunEveryItemExactlyOnce() throws Exception {
    OnceLog log = OnceLog.create(db.storage());
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> racers = new ArrayList<>();
      for (int r = 0; r < 8; r++) {
        racers.add(
            pool.submit(
                () -> {
                  int ranHere = 0;
                  for (int i = 0; i < 200; i++) {
                    String item = "race-" + i;
                    boolean ran =
                        log.runOnce(
                                item,
                                () -> {
                                  runs.computeIfAbsent(item, k -> new AtomicInteger())
                                      .incrementAndGet();
                                  return done();
                                })
                            .toCompletableFuture()
                            .get(30, TimeUnit.SECONDS);
                    ranHere += ran ? 1 : 0;
                  }
                  return ranHere;
                }));
      }
      int total = 0;
      for (Future<Integer> racer : racers) {
        total += racer.get(2, TimeUnit.MINUTES);
      }
      assertEquals(200, total, "runOnce answered true once per item");
    } finally {
      pool.shutdownNow();
    }
    assertEquals(200, runs.size());
    runs.forEach((item, count) -> assertEquals(1, count.get(), item));
    assertEquals(Optional.of("done"), log.state("race-7"));
  }

  @Test
  void aFailedActionIsRecordedAndMayRunAgain() {
    OnceLog log = OnceLog.create(db.storage());
    CompletionException failed =
        assertThrows(
            CompletionException.class,
            () ->
                log.runOnce(
                        "flaky",
                        () -> CompletableFuture.failedFuture(new IllegalStateException("boom")))
                    .toCompletableFuture()
                    .join());
    assertEquals("boom", failed.getCause().getMessage());
    assertEquals(Optional.of("failed"), log.state("flaky"));
    assertTrue(log.runOnce("flaky", OnceLogTest::done).toCompletableFuture().join());
    assertEquals(Optional.of("done"), log.state("flaky"));
    assertFalse(log.runOnce("flaky", OnceLogTest::done).toCompletableFuture().join());
  }

  /** As if a node crashed mid-action: the row stays "running", started long ago. */
  private void strand(String item) throws Exception {
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO troupe_once_log (namespace, item_key, state, node, token, started_at)"
                    + " VALUES ('default', ?, 'running', 'dead-node', 1,"
                    + " DATEADD(HOUR, -1, LOCALTIMESTAMP))")) {
      s.setString(1, item);
      s.executeUpdate();
    }
  }

  @Test
  void anItemLeftRunningByACrashIsLeftAloneByDefault() throws Exception {
    strand("stranded-leave");
    OnceLog log = OnceLog.create(db.storage());
    assertFalse(log.runOnce("stranded-leave", OnceLogTest::done).toCompletableFuture().join());
    assertEquals(Optional.of("running"), log.state("stranded-leave"));
  }

  @Test
  void anItemLeftRunningIsTakenOverAfterTheTimeoutUnderRetryAfter() throws Exception {
    strand("stranded-retry");
    OnceLog log = OnceLog.create(db.storage(), OnceLog.Policy.RETRY_AFTER, Duration.ofMinutes(5));
    assertTrue(log.runOnce("stranded-retry", OnceLogTest::done).toCompletableFuture().join());
    assertEquals(Optional.of("done"), log.state("stranded-retry"));
    // A fresh "running" row is not taken over.
    CompletableFuture<Object> never = new CompletableFuture<>();
    log.runOnce("slow", () -> never);
    OnceLog other = OnceLog.create(db.storage(), OnceLog.Policy.RETRY_AFTER, Duration.ofMinutes(5));
    dev.troupe.testkit.Eventually.awaitAssert(
        Duration.ofSeconds(10),
        "slow claimed",
        () -> assertEquals(Optional.of("running"), log.state("slow")));
    assertFalse(other.runOnce("slow", OnceLogTest::done).toCompletableFuture().join());
    never.complete(null);
  }

  @Test
  void badInputIsRejected() {
    OnceLog log = OnceLog.create(db.storage());
    assertThrows(IllegalArgumentException.class, () -> log.runOnce("", OnceLogTest::done));
    assertThrows(
        IllegalArgumentException.class, () -> log.runOnce("x".repeat(501), OnceLogTest::done));
    assertThrows(IllegalArgumentException.class, () -> log.runOnce("k", null));
    assertThrows(
        IllegalArgumentException.class,
        () -> OnceLog.create(db.storage(), OnceLog.Policy.RETRY_AFTER, Duration.ZERO));
  }

  @Test
  void namespacesOnOneDatabaseAreSeparateLogs() {
    OnceLog a = OnceLog.create(db.storage()).withNamespace("shop-a");
    OnceLog b = OnceLog.create(db.storage()).withNamespace("shop-b");
    AtomicInteger runs = new AtomicInteger();
    assertTrue(a.runOnce("invoice-7", () -> done(runs)).toCompletableFuture().join());
    assertEquals(Optional.empty(), b.state("invoice-7"), "b has not run invoice-7");
    assertTrue(b.runOnce("invoice-7", () -> done(runs)).toCompletableFuture().join());
    assertFalse(a.runOnce("invoice-7", () -> done(runs)).toCompletableFuture().join());
    assertFalse(b.runOnce("invoice-7", () -> done(runs)).toCompletableFuture().join());
    assertEquals(2, runs.get(), "once per namespace");
    assertEquals(Optional.of("done"), a.state("invoice-7"));
    assertEquals(Optional.empty(), OnceLog.create(db.storage()).state("invoice-7"));
  }

  @Test
  void aBadNamespaceIsRefusedWithTheValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> OnceLog.create(db.storage()).withNamespace("shop a"));
    assertTrue(e.getMessage().contains("[shop a]"), e.getMessage());
  }

  private static CompletableFuture<Object> done(AtomicInteger runs) {
    runs.incrementAndGet();
    return done();
  }
}
