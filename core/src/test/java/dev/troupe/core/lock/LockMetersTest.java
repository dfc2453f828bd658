package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.lock.internal.HeldLock;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageSettings;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The lock and storage meters on an H2 storage with a {@link SimpleMeterRegistry}. */
final class LockMetersTest {

  private static long acquires(SimpleMeterRegistry meters, String outcome) {
    return meters.get("troupe.lock.acquire").tag("outcome", outcome).timer().count();
  }

  private static double held(SimpleMeterRegistry meters) {
    return meters.get("troupe.lock.held").gauge().value();
  }

  @Test
  void acquisitionsHoldsLossesAndTokenRaisesAreCounted() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    String url = TestDatabases.freshH2Url();
    try (Storage storage = Storage.create(StorageSettings.defaults().withUrl(url), meters);
        JdbcLockRegistry a = JdbcLockRegistry.create(storage, "a", JdbcLockRegistryH2Test.FAST);
        JdbcLockRegistry b = JdbcLockRegistry.create(storage, "b", JdbcLockRegistryH2Test.FAST)) {
      Lock first = a.tryAcquire("job-1").orElseThrow();
      assertEquals(1, acquires(meters, "acquired"));
      assertEquals(1, held(meters));
      assertEquals(1, meters.get("troupe.lock.token.raises").counter().count());

      assertTrue(b.tryAcquire("job-1").isEmpty());
      assertEquals(1, acquires(meters, "busy"));
      CompletionException timedOut =
          assertThrows(
              CompletionException.class,
              () -> b.acquire("job-1", Duration.ofMillis(200)).toCompletableFuture().join());
      assertNotNull(timedOut.getCause());
      assertEquals(1, acquires(meters, "timeout"));

      Lock second = a.acquire("job-2").toCompletableFuture().join();
      assertEquals(2, acquires(meters, "acquired"));
      assertEquals(2, held(meters), "both registries' locks on one gauge");

      ((HeldLock) second).markLost("test");
      assertEquals(1, meters.get("troupe.lock.losses").counter().count());
      assertEquals(1, held(meters));
      first.release().toCompletableFuture().join();
      assertEquals(0, held(meters));
      assertEquals(1, meters.get("troupe.lock.losses").counter().count(), "a release is no loss");

      JdbcLockRegistry.nextToken(storage, "troupe", "daemon-x");
      assertEquals(3, meters.get("troupe.lock.token.raises").counter().count());
    }
  }

  @Test
  void theStorageTimesItsTransactionsAndHikariReportsThePool() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    String url = TestDatabases.freshH2Url();
    try (Storage storage = Storage.create(StorageSettings.defaults().withUrl(url), meters)) {
      storage.inTransaction(
          "count",
          c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT 1")) {
              return s.executeQuery().next();
            }
          });
      assertThrows(
          RuntimeException.class,
          () ->
              storage.inTransaction(
                  "fail",
                  c -> {
                    try (PreparedStatement s = c.prepareStatement("SELECT * FROM missing")) {
                      return s.executeQuery().next();
                    }
                  }));
      assertEquals(1, meters.get("troupe.storage.statement").tag("outcome", "ok").timer().count());
      assertEquals(
          1, meters.get("troupe.storage.statement").tag("outcome", "failed").timer().count());
      assertTrue(meters.get("hikaricp.connections.max").gauge().value() > 0);
      assertTrue(meters.get("hikaricp.connections.usage").timer().count() >= 2);
    }
  }

  @Test
  void withoutARegistryLocksAndStorageWorkAndRecordNothing() {
    String url = TestDatabases.freshH2Url();
    try (Storage storage = Storage.create(StorageSettings.defaults().withUrl(url));
        JdbcLockRegistry locks =
            JdbcLockRegistry.create(storage, "a", JdbcLockRegistryH2Test.FAST)) {
      Lock lock = locks.tryAcquire("job-1").orElseThrow();
      assertTrue(lock.isHeld());
      lock.release().toCompletableFuture().join();
      assertFalse(lock.isHeld());
      assertTrue(storage.meterRegistry().find("hikaricp.connections.max").meters().isEmpty());
      assertEquals(
          0,
          storage
              .meterRegistry()
              .get("troupe.lock.acquire")
              .tag("outcome", "acquired")
              .timer()
              .count());
    }
  }
}
