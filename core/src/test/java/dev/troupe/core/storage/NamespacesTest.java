package dev.troupe.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

final class NamespacesTest {

  @Test
  void theDefaultNamespaceIsDefault() {
    assertEquals("default", Namespaces.of(ConfigFactory.load()));
  }

  @Test
  void namespacesOutsideTheAlphabetOrTooLongAreRefusedWithTheValueAndTheRule() {
    for (String bad : List.of("", " ", "shop floor", "-leading-dash", "a/b", "ä", "x".repeat(64))) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Namespaces.requireValid(bad, "troupe.namespace"));
      assertTrue(e.getMessage().contains("troupe.namespace"), e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Namespaces.requireValid("a b", "troupe.namespace"));
    assertTrue(e.getMessage().contains("[a b]") && e.getMessage().contains("63"), e.getMessage());
    for (String good : List.of("default", "shop-eu.1", "A_b", "x".repeat(63), "7")) {
      assertEquals(good, Namespaces.requireValid(good, "troupe.namespace"));
    }
  }

  @Test
  void anOldH2TableGetsTheNamespaceInItsKeyAndKeepsItsRowsUnderDefault() throws SQLException {
    try (TestDatabase db = TestDatabases.freshH2()) {
      upgradesAnOldTable(db.storage(), Dialect.H2);
    }
  }

  @Test
  void anOldPostgresTableGetsTheNamespaceInItsKeyAndKeepsItsRowsUnderDefault() throws SQLException {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      upgradesAnOldTable(db.storage(), Dialect.POSTGRESQL);
    }
  }

  private static void upgradesAnOldTable(Storage storage, Dialect dialect) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE ns_jobs (name VARCHAR(100) PRIMARY KEY, spec VARCHAR(100))");
      s.execute("INSERT INTO ns_jobs (name, spec) VALUES ('nightly', 'old')");
      // Twice: the statements must be idempotent (a crash before the version is recorded).
      for (int round = 0; round < 2; round++) {
        for (String statement : Namespaces.keyStatements(dialect, "ns_jobs", "name")) {
          s.execute(statement);
        }
      }
      assertEquals("default", namespaceOf(c, "nightly"));
      assertThrows(
          SQLException.class,
          () -> s.execute("INSERT INTO ns_jobs (name, spec) VALUES ('forgot', 'x')"),
          "after the upgrade a row without a namespace is refused, not put into 'default'");
      s.execute("INSERT INTO ns_jobs (namespace, name, spec) VALUES ('other', 'nightly', 'new')");
      assertThrows(
          SQLException.class,
          () ->
              s.execute(
                  "INSERT INTO ns_jobs (namespace, name, spec) VALUES ('other', 'nightly', 'x')"),
          "the key is (namespace, name)");
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM ns_jobs WHERE name = 'nightly'")) {
        rs.next();
        assertEquals(2, rs.getInt(1));
      }
    }
  }

  private static String namespaceOf(Connection c, String name) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement("SELECT namespace FROM ns_jobs WHERE name = ? AND spec = 'old'")) {
      select.setString(1, name);
      try (ResultSet rs = select.executeQuery()) {
        assertTrue(rs.next(), "the old row is still there");
        return rs.getString(1);
      }
    }
  }
}
