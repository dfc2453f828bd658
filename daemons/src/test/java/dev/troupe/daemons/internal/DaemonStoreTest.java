package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.storage.Storage;
import dev.troupe.daemons.OnceLog;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
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
}
