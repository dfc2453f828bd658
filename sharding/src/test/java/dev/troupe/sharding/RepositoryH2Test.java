package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@link Repository} contract on a private in-memory H2 database, plus H2-only cases. */
final class RepositoryH2Test extends RepositoryContract {
  private static TestDatabase db;

  @BeforeAll
  static void openAFreshDatabase() {
    db = TestDatabases.freshH2();
  }

  @AfterAll
  static void dropTheDatabase() {
    if (db != null) {
      db.close();
    }
  }

  @Override
  protected Storage storage() {
    return db.storage();
  }

  @Test
  void theTableIsCreatedWhenTheStorageOpensAndItsSchemaRecorded() throws SQLException {
    try (Connection c = storage().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT version FROM troupe_schema WHERE name = 'troupe-sharding'")) {
      assertTrue(rs.next(), "troupe-sharding recorded in troupe_schema");
      assertEquals(3, rs.getInt(1), "version 3: the fleet fence tables");
    }
  }

  @Test
  void createMakesTheTableIfTheStorageOpenedWithoutIt() throws SQLException {
    try (TestDatabase other = TestDatabases.freshH2()) {
      Storage storage = other.storage();
      try (Connection c = storage.dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE troupe_fleet_state");
        s.execute("DELETE FROM troupe_schema WHERE name = 'troupe-sharding'");
      }
      assertFalse(hasFleetTable(storage));

      Repository<String> repo = Repository.create(storage, "late", String.class);

      assertTrue(hasFleetTable(storage), "ensureSchema in create");
      assertEquals(1, repo.save("k", "v", 0).version());
    }
  }

  @Test
  void sqlFailuresNameTheRepositoryAndTheDatabaseButNoPassword() {
    String url = TestDatabases.freshH2Url() + ";USER=sa;PASSWORD=s3cr3t-pw";
    Storage storage = Storage.fromUrl(url);
    Repository<String> repo = Repository.create(storage, "orders", String.class);
    storage.close();

    StorageException e = assertThrows(StorageException.class, () -> repo.load("order-1"));

    assertTrue(e.getMessage().contains("Repository [orders]"), e.getMessage());
    assertTrue(e.getMessage().contains(storage.displayUrl()), e.getMessage());
    assertTrue(e.getMessage().contains("[order-1]"), e.getMessage());
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("s3cr3t-pw"), t.toString());
    }
  }

  private static boolean hasFleetTable(Storage storage) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        ResultSet rs = c.getMetaData().getTables(null, null, "TROUPE_FLEET_STATE", null)) {
      return rs.next();
    }
  }
}
