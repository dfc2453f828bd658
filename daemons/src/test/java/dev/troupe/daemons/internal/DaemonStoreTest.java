package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.Names;
import dev.troupe.core.storage.Storage;
import dev.troupe.daemons.OnceLog;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class DaemonStoreTest {

  @Test
  void twoNamespacesOnOneH2DatabaseKeepTheirOwnDaemonsAndEpochs() {
    try (TestDatabase db = TestDatabases.freshH2()) {
      twoNamespacesKeepTheirOwn(db.storage());
    }
  }

  @Test
  void twoNamespacesOnOnePostgresDatabaseKeepTheirOwnDaemonsAndEpochs() {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      twoNamespacesKeepTheirOwn(db.storage());
    }
  }

  private static void twoNamespacesKeepTheirOwn(Storage storage) {
    DaemonStore a = new DaemonStore(storage, "cluster-a", "cluster-a");
    DaemonStore b = new DaemonStore(storage, "cluster-b", "cluster-b");
    a.saveSpawned(new DaemonStore.Spawned("importer", "import", List.of("s3://a")));
    b.saveSpawned(new DaemonStore.Spawned("importer", "import", List.of("s3://b")));
    assertEquals(
        List.of(new DaemonStore.Spawned("importer", "import", List.of("s3://a"))), a.spawned());
    assertEquals(
        List.of(new DaemonStore.Spawned("importer", "import", List.of("s3://b"))), b.spawned());

    assertEquals(1, a.nextEpoch("importer"));
    assertEquals(2, a.nextEpoch("importer"));
    assertEquals(1, b.nextEpoch("importer"), "b's epochs do not follow a's");
    assertEquals(java.util.Map.of("importer", 2L), a.epochs());
    assertEquals(java.util.Map.of("importer", 1L), b.epochs());

    a.deleteSpawned("importer");
    assertEquals(List.of(), a.spawned());
    assertEquals(1, b.spawned().size(), "deleting a's daemon leaves b's");
  }

  @Test
  void aVersionOneDatabaseIsUpgradedAndItsRowsBelongToTheDefaultNamespace() throws SQLException {
    try (TestDatabase db = TestDatabases.freshH2()) {
      try (Connection c = db.storage().dataSource().getConnection();
          Statement s = c.createStatement()) {
        // The storage created today's tables: put back those of version 1, with a row in each.
        s.execute("DROP TABLE troupe_daemon");
        s.execute("DROP TABLE troupe_once_log");
        s.execute(
            "CREATE TABLE troupe_daemon (name VARCHAR(500) PRIMARY KEY, launcher VARCHAR(200) NOT"
                + " NULL, args CLOB NOT NULL, created_at TIMESTAMP NOT NULL)");
        s.execute(
            "CREATE TABLE troupe_once_log (item_key VARCHAR(500) PRIMARY KEY, state VARCHAR(20)"
                + " NOT NULL, node VARCHAR(300) NOT NULL, token BIGINT NOT NULL, started_at"
                + " TIMESTAMP NOT NULL, finished_at TIMESTAMP, detail VARCHAR(1000))");
        s.execute("INSERT INTO troupe_daemon VALUES ('billing', 'billing', '[]', LOCALTIMESTAMP)");
        s.execute(
            "INSERT INTO troupe_once_log (item_key, state, node, token, started_at)"
                + " VALUES ('invoice-1', 'done', 'n1', 1, LOCALTIMESTAMP)");
        s.execute("UPDATE troupe_schema SET version = 1 WHERE name = 'troupe-daemons'");
      }
      DaemonStore upgraded = new DaemonStore(db.storage(), "default", "default");
      assertEquals(
          List.of(new DaemonStore.Spawned("billing", "billing", List.of())), upgraded.spawned());
      assertEquals(Optional.of("done"), OnceLog.create(db.storage()).state("invoice-1"));
      assertTrue(
          new DaemonStore(db.storage(), "other", "other").spawned().isEmpty(),
          "another namespace sees none of the old rows");
    }
  }

  @Test
  void aVersion4H2DatabaseTakesLauncherNamesOfTheFullLength() throws SQLException {
    try (TestDatabase db = TestDatabases.freshH2()) {
      launcherColumnsAreWidened(db.storage());
    }
  }

  @Test
  void aVersion4PostgresDatabaseTakesLauncherNamesOfTheFullLength() throws SQLException {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      launcherColumnsAreWidened(db.storage());
    }
  }

  /** Version 5 widened the launcher columns from 200 characters to a name's 256 bytes. */
  private static void launcherColumnsAreWidened(Storage storage) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement()) {
      // The storage created today's tables: narrow them back to version 4.
      for (String table : List.of("troupe_daemon", "troupe_daemon_lease")) {
        s.execute("ALTER TABLE " + table + " ALTER COLUMN launcher SET DATA TYPE VARCHAR(200)");
      }
      s.execute("UPDATE troupe_schema SET version = 4 WHERE name = 'troupe-daemons'");
    }
    DaemonStore upgraded = new DaemonStore(storage, "default", "default");
    String launcher = "l".repeat(Names.MAX_UTF8_BYTES);
    upgraded.saveSpawned(new DaemonStore.Spawned("d", launcher, List.of()));
    assertEquals(List.of(new DaemonStore.Spawned("d", launcher, List.of())), upgraded.spawned());
    assertTrue(upgraded.claimLease("d", "node-a", 1, 60_000, launcher, List.of()).claimed());
    assertEquals(launcher, upgraded.leasesHeldBy(List.of("node-a")).get(0).launcher());
  }

  @Test
  void leasesOnH2() {
    try (TestDatabase db = TestDatabases.freshH2()) {
      leases(db.storage());
    }
  }

  @Test
  void leasesOnPostgres() {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      leases(db.storage());
    }
  }

  private static void leases(Storage storage) {
    DaemonStore store = new DaemonStore(storage, "leases", "leases");
    long minute = 60_000;

    // A free lease is claimed; another owner is refused and told who holds it, how long for.
    assertTrue(store.claimLease("importer", "node-a", 1, minute).claimed());
    DaemonStore.LeaseClaim refused = store.claimLease("importer", "node-b", 2, minute);
    assertFalse(refused.claimed());
    assertEquals("node-a", refused.holder());
    assertEquals(1, refused.holderEpoch());
    assertTrue(
        refused.remainingMillis() > 50_000 && refused.remainingMillis() <= minute,
        "remaining " + refused.remainingMillis());
    // The holder's claim again is idempotent; an older epoch never replaces a newer one.
    assertTrue(store.claimLease("importer", "node-a", 1, minute).claimed());
    assertFalse(store.claimLease("importer", "node-a", 0, minute).claimed());

    // Leases live with their epochs, in the lock namespace: another lock namespace (same row
    // namespace) has leases and epochs of its own.
    assertTrue(
        new DaemonStore(storage, "leases", "other-locks")
            .claimLease("importer", "node-c", 1, minute)
            .claimed());
    // Another namespace on the same database has leases of its own.
    assertTrue(
        new DaemonStore(storage, "other", "other")
            .claimLease("importer", "node-b", 1, minute)
            .claimed());

    // A release frees it at once for a successor with a newer epoch, never for an older one.
    assertFalse(store.releaseLease("importer", "node-b", 1), "not node-b's to release");
    assertTrue(store.releaseLease("importer", "node-a", 1));
    assertFalse(store.claimLease("importer", "node-b", 0, minute).claimed(), "an older epoch");
    assertTrue(store.claimLease("importer", "node-b", 2, minute).claimed());

    // Renewal extends and lists exactly the owner's unexpired leases.
    assertTrue(store.claimLease("billing", "node-b", 7, minute).claimed());
    assertEquals(Map.of("importer", 2L, "billing", 7L), store.renewLeases("node-b", minute));
    assertEquals(Map.of(), store.renewLeases("node-a", minute));

    // An expired lease is free for others, and its former owner's renewal does not revive it.
    assertTrue(store.claimLease("short", "node-a", 1, 200).claimed());
    assertFalse(store.claimLease("short", "node-b", 2, minute).claimed(), "not expired yet");
    Eventually.awaitCondition(
        Duration.ofSeconds(5),
        "the 200 ms lease to expire and node-b to take it",
        () -> store.claimLease("short", "node-b", 2, minute).claimed());
    assertEquals(Map.of(), store.renewLeases("node-a", minute), "node-a holds nothing now");
    assertEquals(
        Map.of("importer", 2L, "billing", 7L, "short", 2L), store.renewLeases("node-b", minute));

    // The leases an owner holds, with launcher and arguments, for a host that takes them over;
    // released leases and leases without a launcher (claimed by an older node) are not listed.
    DaemonStore takeover = new DaemonStore(storage, "takeover", "takeover");
    assertTrue(
        takeover
            .claimLease("imp-a", "node-x", 3, minute, "importer", List.of("s3://a", 2))
            .claimed());
    assertTrue(takeover.claimLease("imp-b", "node-x", 4, minute, "importer", List.of()).claimed());
    assertTrue(takeover.claimLease("old", "node-x", 1, minute).claimed());
    assertTrue(takeover.claimLease("gone", "node-x", 5, minute, "importer", List.of()).claimed());
    assertTrue(takeover.releaseLease("gone", "node-x", 5));
    assertTrue(takeover.claimLease("elsewhere", "node-y", 1, minute, "other", List.of()).claimed());
    List<DaemonStore.HeldLease> held = takeover.leasesHeldBy(List.of("node-x"));
    assertEquals(
        List.of("imp-a", "imp-b"), held.stream().map(DaemonStore.HeldLease::name).toList());
    DaemonStore.HeldLease a = held.get(0);
    assertEquals("node-x", a.owner());
    assertEquals(3, a.epoch());
    assertEquals("importer", a.launcher());
    assertEquals(List.of("s3://a", 2), a.args());
    assertTrue(a.remainingMillis() > 50_000, "remaining " + a.remainingMillis());
    assertEquals(3, takeover.leasesHeldBy(List.of("node-x", "node-y", "node-z")).size());
    assertEquals(List.of(), takeover.leasesHeldBy(List.of()));
  }
}
