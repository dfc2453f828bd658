package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.internal.FleetSchema;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Repositories of the same name in different namespaces on one database (two clusters sharing it)
 * are separate, and a table from before namespaces is upgraded with its rows in namespace {@code
 * default}; on H2 and, when reachable, PostgreSQL.
 */
final class RepositoryNamespaceTest {

  @Test
  void sameNamedRepositoriesInTwoNamespacesAreSeparateOnH2() throws SQLException {
    try (TestDatabase db = TestDatabases.freshH2()) {
      repositoriesInTwoNamespacesAreSeparate(db.storage());
    }
  }

  @Test
  void sameNamedRepositoriesInTwoNamespacesAreSeparateOnPostgres() throws SQLException {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      repositoriesInTwoNamespacesAreSeparate(db.storage());
    }
  }

  @Test
  void aVersion1TableOnH2IsUpgradedAndItsRowsReadInNamespaceDefault() throws SQLException {
    try (TestDatabase db = TestDatabases.freshH2()) {
      version1TableIsUpgraded(db, Dialect.H2);
    }
  }

  @Test
  void aVersion1TableOnPostgresIsUpgradedAndItsRowsReadInNamespaceDefault() throws SQLException {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      version1TableIsUpgraded(db, Dialect.POSTGRESQL);
    }
  }

  @Test
  void anInvalidNamespaceIsRefusedNamingTheValue() {
    try (TestDatabase db = TestDatabases.freshH2()) {
      Storage storage = db.storage();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Repository.create(storage, "a b", "carts", String.class));
      assertTrue(e.getMessage().contains("namespace"), e.getMessage());
      assertTrue(e.getMessage().contains("[a b]"), e.getMessage());
      for (String bad : List.of("", "-a", "a/b", "x".repeat(Namespaces.MAX_LENGTH + 1))) {
        IllegalArgumentException tooBad =
            assertThrows(
                IllegalArgumentException.class,
                () -> Repository.create(storage, bad, "carts", String.class),
                bad);
        assertTrue(tooBad.getMessage().contains("namespace"), tooBad.getMessage());
      }
      IllegalArgumentException missing =
          assertThrows(
              IllegalArgumentException.class,
              () -> Repository.create(storage, null, "carts", String.class));
      assertEquals("namespace must not be null", missing.getMessage());
      // The longest namespace fits the column.
      String longest = "n".repeat(Namespaces.MAX_LENGTH);
      Repository<String> fits = Repository.create(storage, longest, "carts", String.class);
      assertEquals(1, fits.save("k1", "v", 0).version());
      assertEquals(Optional.of(new Versioned<>("v", 1)), fits.load("k1"));
    }
  }

  private static void repositoriesInTwoNamespacesAreSeparate(Storage storage) throws SQLException {
    Repository<String> a = Repository.create(storage, "a", "carts", String.class);
    Repository<String> b = Repository.create(storage, "b", "carts", String.class);
    Repository<String> byDefault = Repository.create(storage, "carts", String.class);
    assertEquals("carts", a.name());

    // The same key in both: each insert is a new key in its own namespace, not a conflict.
    assertEquals(1, a.save("k1", "in-a", 0).version());
    assertEquals(Optional.empty(), b.load("k1"), "a's row is invisible in b");
    assertEquals(List.of(), b.keys(0, 10));
    assertEquals(1, b.save("k1", "in-b", 0).version());
    assertEquals(Optional.of(new Versioned<>("in-a", 1)), a.load("k1"));
    assertEquals(Optional.of(new Versioned<>("in-b", 1)), b.load("k1"));
    assertEquals(Optional.empty(), byDefault.load("k1"), "nor in namespace default");
    assertEquals(
        List.of(List.of("a", "\"in-a\""), List.of("b", "\"in-b\"")), storedRows(storage, "k1"));

    // Versions are per namespace: a moves on to 3, b stays at 1.
    assertEquals(2, a.save("k1", "in-a-2", 1).version());
    assertEquals(3, a.save("k1", "in-a-3", 2).version());
    VersionConflictException stale =
        assertThrows(VersionConflictException.class, () -> b.save("k1", "from-b", 3));
    assertEquals(1, stale.actualVersion(), "b's own version, not a's");
    VersionConflictException existing =
        assertThrows(VersionConflictException.class, () -> b.save("k1", "from-b", 0));
    assertEquals(1, existing.actualVersion());
    assertEquals(Optional.of(new Versioned<>("in-a-3", 3)), a.load("k1"), "b changed nothing");
    assertEquals(2, b.save("k1", "in-b-2", 1).version());
    assertEquals(Optional.of(new Versioned<>("in-b-2", 2)), b.load("k1"));
    assertEquals(Optional.of(new Versioned<>("in-a-3", 3)), a.load("k1"));
    VersionConflictException aheadOfA =
        assertThrows(VersionConflictException.class, () -> a.save("k1", "from-a", 2));
    assertEquals(3, aheadOfA.actualVersion());

    // Keys, by offset and by cursor: each lists its own namespace's only.
    a.save("k2", "a2", 0);
    a.save("k3", "a3", 0);
    b.save("k0", "b0", 0);
    b.save("k4", "b4", 0);
    byDefault.save("k2", "default-2", 0);
    assertEquals(List.of("k1", "k2", "k3"), a.keys(0, 10));
    assertEquals(List.of("k0", "k1", "k4"), b.keys(0, 10));
    assertEquals(List.of("k2"), byDefault.keys(0, 10));
    assertEquals(List.of("k2", "k3"), a.keys(1, 10));
    assertEquals(List.of("k1", "k4"), b.keys(1, 10));
    assertEquals(List.of("k1", "k2"), a.keys(0, 2));
    assertEquals(List.of("k1", "k2", "k3"), a.keysAfter(null, 10));
    assertEquals(List.of("k0", "k1"), b.keysAfter(null, 2));
    assertEquals(List.of("k1"), a.keysAfter("k0", 1), "b's k0 is not a's");
    assertEquals(List.of("k2", "k3"), a.keysAfter("k1", 10));
    assertEquals(List.of("k4"), b.keysAfter("k1", 10));
    assertEquals(List.of(), a.keysAfter("k3", 10), "b's k4 is not after a's last key");
    assertEquals(List.of("k1", "k2", "k3"), pageThrough(a, 1));
    assertEquals(List.of("k0", "k1", "k4"), pageThrough(b, 2));

    // Deleting in one leaves the other.
    assertTrue(b.delete("k1"));
    assertFalse(b.delete("k1"), "gone from b");
    assertEquals(Optional.empty(), b.load("k1"));
    assertEquals(Optional.of(new Versioned<>("in-a-3", 3)), a.load("k1"));
    assertFalse(b.delete("k2"), "k2 is a's and default's, not b's");
    assertEquals(Optional.of(new Versioned<>("a2", 1)), a.load("k2"));
    assertEquals(Optional.of(new Versioned<>("default-2", 1)), byDefault.load("k2"));
    assertEquals(List.of("k0", "k4"), b.keys(0, 10));
    assertEquals(List.of("k1", "k2", "k3"), a.keys(0, 10));
    // A key deleted in b is new there again, whatever a holds.
    assertEquals(1, b.save("k1", "in-b-again", 0).version());
    assertEquals(
        List.of(List.of("a", "\"in-a-3\""), List.of("b", "\"in-b-again\"")),
        storedRows(storage, "k1"));
  }

  private static List<String> pageThrough(Repository<String> repository, int pageSize) {
    List<String> seen = new ArrayList<>();
    String cursor = null;
    List<String> page;
    while (!(page = repository.keysAfter(cursor, pageSize)).isEmpty()) {
      seen.addAll(page);
      cursor = page.get(page.size() - 1);
    }
    return seen;
  }

  /** (namespace, stored JSON) of every row of repository "carts" with {@code key}. */
  private static List<List<String>> storedRows(Storage storage, String key) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT namespace, state_value FROM troupe_fleet_state"
                    + " WHERE repo = 'carts' AND state_key = ? ORDER BY namespace")) {
      s.setString(1, key);
      List<List<String>> rows = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          rows.add(List.of(rs.getString(1), rs.getString(2)));
        }
      }
      return rows;
    }
  }

  /**
   * A database whose troupe_fleet_state is still at version 1 (the DDL of that version, with rows)
   * is upgraded by the next storage that opens it; the rows belong to namespace default.
   */
  private static void version1TableIsUpgraded(TestDatabase db, Dialect dialect)
      throws SQLException {
    boolean postgres = dialect == Dialect.POSTGRESQL;
    // The storage of an old node: troupe_schema records troupe-sharding version 1.
    try (Connection c = db.storage().dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE troupe_fleet_state");
      // Version 1 of FleetSchema, verbatim.
      s.execute(
          "CREATE TABLE IF NOT EXISTS troupe_fleet_state ("
              + "repo VARCHAR(200) NOT NULL, "
              + "state_key VARCHAR(500)"
              + (postgres ? " COLLATE \"C\"" : "")
              + " NOT NULL, "
              + "version BIGINT NOT NULL, "
              + "state_value "
              + (postgres ? "TEXT" : "CLOB")
              + ", "
              + "updated_at TIMESTAMP, "
              + "PRIMARY KEY (repo, state_key))");
      s.execute(
          "INSERT INTO troupe_fleet_state (repo, state_key, version, state_value, updated_at)"
              + " VALUES ('carts', 'k1', 3, '\"old-1\"', LOCALTIMESTAMP),"
              + " ('carts', 'K2', 1, '\"old-2\"', LOCALTIMESTAMP),"
              + " ('other', 'k1', 7, '\"other-1\"', LOCALTIMESTAMP)");
      assertEquals(
          1,
          s.executeUpdate(
              "UPDATE troupe_schema SET version = 1 WHERE name = '" + FleetSchema.NAME + "'"));
    }
    assertFalse(hasNamespaceColumn(db.storage()), "a version-1 table");

    // A node of this version opens the database: the schema is upgraded.
    try (Storage upgraded = Storage.fromUrl(db.url())) {
      assertEquals(
          new dev.troupe.sharding.internal.FleetSchema().version(), recordedVersion(upgraded));
      assertTrue(hasNamespaceColumn(upgraded));
      assertEquals(
          List.of(List.of("default", "\"old-1\"")), storedRows(upgraded, "k1"), "in default");

      Repository<String> carts = Repository.create(upgraded, "carts", String.class);
      Repository<String> cartsInDefault =
          Repository.create(upgraded, Namespaces.DEFAULT, "carts", String.class);
      assertEquals(Optional.of(new Versioned<>("old-1", 3)), carts.load("k1"));
      assertEquals(Optional.of(new Versioned<>("old-2", 1)), cartsInDefault.load("K2"));
      assertEquals(
          Optional.of(new Versioned<>("other-1", 7)),
          Repository.create(upgraded, "other", String.class).load("k1"));
      // Code point order still ("K2" before "k1"): the "C" collation survived on PostgreSQL.
      assertEquals(List.of("K2", "k1"), carts.keys(0, 10));
      assertEquals(List.of("k1"), carts.keysAfter("K2", 10));

      // The rows go on with their versions; the key is still unique within the namespace.
      assertEquals(4, carts.save("k1", "new-1", 3).version());
      VersionConflictException e =
          assertThrows(VersionConflictException.class, () -> carts.save("k1", "dup", 0));
      assertEquals(4, e.actualVersion());

      // Another namespace sees none of them, and may hold the same keys.
      Repository<String> cartsInA = Repository.create(upgraded, "a", "carts", String.class);
      assertEquals(Optional.empty(), cartsInA.load("k1"));
      assertEquals(List.of(), cartsInA.keys(0, 10));
      assertEquals(1, cartsInA.save("k1", "a-1", 0).version());
      assertEquals(Optional.of(new Versioned<>("new-1", 4)), carts.load("k1"));

      // The statements run again (a crash before the version was recorded) harm nothing.
      try (Connection c = upgraded.dataSource().getConnection();
          Statement s = c.createStatement()) {
        for (String statement : new FleetSchema().statements(dialect)) {
          s.execute(statement);
        }
      }
      assertEquals(Optional.of(new Versioned<>("new-1", 4)), carts.load("k1"));
      assertEquals(Optional.of(new Versioned<>("a-1", 1)), cartsInA.load("k1"));
      assertThrows(VersionConflictException.class, () -> cartsInA.save("k1", "dup", 0));
    }
  }

  private static int recordedVersion(Storage storage) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT version FROM troupe_schema WHERE name = '" + FleetSchema.NAME + "'")) {
      assertTrue(rs.next(), "troupe-sharding recorded");
      return rs.getInt(1);
    }
  }

  private static boolean hasNamespaceColumn(Storage storage) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM troupe_fleet_state WHERE 1 = 0")) {
      ResultSetMetaData columns = rs.getMetaData();
      for (int i = 1; i <= columns.getColumnCount(); i++) {
        if (columns.getColumnName(i).equalsIgnoreCase("namespace")) {
          return true;
        }
      }
      return false;
    }
  }
}
