package dev.troupe.samples.chaos;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * The database of one run: a fresh schema on PostgreSQL when it is reachable (required under {@code
 * CI=true}), otherwise a fresh H2 file in auto-server mode that every node JVM shares.
 */
record Database(String url, boolean postgres, String base) {
  static final String PG_BASE =
      System.getenv()
          .getOrDefault(
              "TROUPE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  static Database forRun(String runId, Path scratch) {
    return forRun(runId, scratch, PG_BASE);
  }

  /** Like {@link #forRun(String, Path)}, on the PostgreSQL server at {@code base}. */
  static Database forRun(String runId, Path scratch, String base) {
    String schema = "chaos_" + runId.replaceAll("[^a-zA-Z0-9]", "_").toLowerCase();
    Optional<String> pg = postgres(base, schema);
    if (pg.isPresent()) {
      return new Database(pg.get(), true, base);
    }
    if (!Boolean.getBoolean("troupe.chaos.h2") || "true".equals(System.getenv("CI"))) {
      throw new IllegalStateException(
          "PostgreSQL is not reachable at "
              + PG_BASE
              + ": the chaos runs need it (or --h2 for a run on H2 auto-server, outside CI)");
    }
    return new Database(
        "jdbc:h2:file:" + scratch.resolve(runId).toAbsolutePath() + ";AUTO_SERVER=TRUE",
        false,
        base);
  }

  /**
   * Drops the run's PostgreSQL schema (after the check) when {@code -Dtroupe.chaos.drop=true}, as
   * the tier A test sets; command-line runs keep it so that {@code Checker} can re-check them.
   */
  void dropIfAsked() {
    if (!postgres || !Boolean.getBoolean("troupe.chaos.drop")) {
      return;
    }
    String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    try (Connection c = DriverManager.getConnection(base);
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      System.err.println("chaos: could not drop schema " + schema + ": " + e.getMessage());
    }
  }

  /** Whether PostgreSQL answers at {@link #PG_BASE}. */
  static boolean postgresReachable() {
    DriverManager.setLoginTimeout(3);
    try (Connection c = DriverManager.getConnection(PG_BASE)) {
      return c.isValid(3);
    } catch (SQLException e) {
      return false;
    }
  }

  private static Optional<String> postgres(String base, String schema) {
    DriverManager.setLoginTimeout(3);
    try (Connection c = DriverManager.getConnection(base);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
      return Optional.of(base + "&currentSchema=" + schema);
    } catch (SQLException e) {
      return Optional.empty();
    }
  }
}
