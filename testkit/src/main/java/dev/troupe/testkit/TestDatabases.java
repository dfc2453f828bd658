package dev.troupe.testkit;

import dev.troupe.core.storage.Storage;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Databases for tests of every module: the PostgreSQL of the test environment, an isolated schema
 * in it per test class, and private in-memory H2 databases.
 *
 * <pre>{@code
 * final class RepositoryPostgresTest {
 *   private static TestDatabases.TestDatabase db;
 *
 *   @BeforeAll
 *   static void start() {
 *     TestDatabases.assumePostgres();      // skipped locally without PostgreSQL, fails on CI
 *     db = TestDatabases.freshPostgres();  // schema troupe_t_<random>, dropped by close()
 *   }
 *
 *   @AfterAll
 *   static void stop() {
 *     if (db != null) db.close();
 *   }
 *
 *   @Test
 *   void savesARow() {
 *     Repository<Cart> carts = Repository.create(db.storage(), "carts", Cart.class);
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>PostgreSQL is found at {@link #postgresUrl()}: environment variable {@value
 * #POSTGRES_URL_ENV}, by default {@value #DEFAULT_POSTGRES_URL}. When it is unreachable, {@link
 * #assumePostgres()} skips the test, unless the environment variable {@code CI} is {@code true}: CI
 * must run every test.
 */
public final class TestDatabases {
  /** Environment variable with the JDBC URL of the test PostgreSQL database. */
  public static final String POSTGRES_URL_ENV = "TROUPE_TEST_POSTGRES_URL";

  /** The test PostgreSQL database when {@value #POSTGRES_URL_ENV} is not set. */
  public static final String DEFAULT_POSTGRES_URL =
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  private static final int PROBE_TIMEOUT_SECONDS = 5;

  /** Result of the first reachability probe; null until probed, then the failure or "". */
  private static volatile String probeFailure;

  private TestDatabases() {}

  /** The JDBC URL of the test PostgreSQL database. */
  public static String postgresUrl() {
    String url = System.getenv(POSTGRES_URL_ENV);
    return url == null || url.isBlank() ? DEFAULT_POSTGRES_URL : url.trim();
  }

  /** Whether {@link #postgresUrl()} accepts a connection (probed once per JVM, for at most 5 s). */
  public static boolean postgresReachable() {
    return probe().isEmpty();
  }

  /**
   * Skips the calling test when PostgreSQL is unreachable, or fails it when the environment
   * variable {@code CI} is {@code true}. Call it first, in {@code @BeforeAll} or the test.
   */
  public static void assumePostgres() {
    String failure = probe();
    if (failure.isEmpty()) {
      return;
    }
    String where = "PostgreSQL at [" + Storage.redact(postgresUrl()) + "]";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(
          "CI requires PostgreSQL, but "
              + where
              + " is unreachable ("
              + failure
              + "); start it or set "
              + POSTGRES_URL_ENV);
    }
    Assumptions.abort(where + " is unreachable (" + failure + "); skipping");
  }

  /**
   * A new, empty PostgreSQL schema {@code troupe_t_<random>} in the test database, for one test
   * class; its {@link TestDatabase#url()} selects it with {@code currentSchema}, and {@link
   * TestDatabase#close()} drops it with everything in it.
   *
   * <p>Calls {@link #assumePostgres()} first.
   */
  public static TestDatabase freshPostgres() {
    assumePostgres();
    String schema = "troupe_t_" + random();
    String base = postgresUrl();
    try (Connection connection = connectPostgres(base);
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot create schema " + schema + " in [" + Storage.redact(base) + "]", e);
    }
    String url = base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    return new TestDatabase(url, "DROP SCHEMA IF EXISTS " + schema + " CASCADE", base);
  }

  /**
   * Skips the calling test unless this process can restart the test PostgreSQL server: it runs on
   * this machine (127.0.0.1 or localhost) and {@code pg_ctlcluster} manages it (Debian's
   * postgresql-common); under CI ({@code CI=true}) it fails instead of skipping.
   */
  public static void assumePostgresRestartable() {
    assumePostgres();
    String why = restartUnavailable();
    if (why.isEmpty()) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail("CI must run the PostgreSQL restart tests, but: " + why);
    }
    Assumptions.abort("cannot restart the test PostgreSQL: " + why);
  }

  private static String restartUnavailable() {
    String url = postgresUrl();
    if (!url.contains("//127.0.0.1") && !url.contains("//localhost")) {
      return "it is not on this machine: " + Storage.redact(url);
    }
    if (postgresVersion().isEmpty()) {
      return "no cluster under /etc/postgresql";
    }
    if (!new java.io.File("/usr/bin/pg_ctlcluster").canExecute()) {
      return "pg_ctlcluster is missing";
    }
    return "";
  }

  private static String postgresVersion() {
    String[] versions = new java.io.File("/etc/postgresql").list();
    if (versions == null || versions.length == 0) {
      return "";
    }
    java.util.Arrays.sort(versions);
    return versions[versions.length - 1];
  }

  /**
   * Restarts the test PostgreSQL server ({@code pg_ctlcluster ... restart -m fast}: every session
   * ends, every advisory lock is freed) and waits until it accepts connections again.
   */
  public static void restartPostgres() {
    runPgCtl("restart");
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection c = connectPostgres(postgresUrl())) {
        if (c.isValid(PROBE_TIMEOUT_SECONDS)) {
          return;
        }
      } catch (SQLException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("PostgreSQL did not come back after the restart", e);
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
    }
  }

  private static void runPgCtl(String action) {
    try {
      Process process =
          new ProcessBuilder(
                  "pg_ctlcluster",
                  "--skip-systemctl-redirect",
                  postgresVersion(),
                  "main",
                  action,
                  "-m",
                  "fast")
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes());
      if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("pg_ctlcluster " + action + " failed: " + output);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A URL of a new, private in-memory H2 database that lives until the JVM exits. */
  public static String freshH2Url() {
    return "jdbc:h2:mem:troupe_" + random() + ";DB_CLOSE_DELAY=-1";
  }

  /**
   * A new, private in-memory H2 database; {@link TestDatabase#close()} shuts it down and frees its
   * memory.
   */
  public static TestDatabase freshH2() {
    String url = freshH2Url();
    return new TestDatabase(url, "SHUTDOWN", url);
  }

  private static String random() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  private static String probe() {
    String failure = probeFailure;
    if (failure == null) {
      synchronized (TestDatabases.class) {
        failure = probeFailure;
        if (failure == null) {
          try (Connection connection = connectPostgres(postgresUrl())) {
            failure = connection.isValid(PROBE_TIMEOUT_SECONDS) ? "" : "connection not valid";
          } catch (SQLException | RuntimeException e) {
            failure = e.getClass().getSimpleName() + ": " + e.getMessage();
          }
          probeFailure = failure;
        }
      }
    }
    return failure;
  }

  private static Connection connectPostgres(String url) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
    properties.setProperty("loginTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
    return DriverManager.getConnection(url, properties);
  }

  /**
   * A database for one test class: its URL, a {@link Storage} on it opened on first use, and {@link
   * #close()}, which closes that storage and removes the database.
   */
  public static final class TestDatabase implements AutoCloseable {
    private final String url;
    private final String dropStatement;
    private final String adminUrl;
    private Storage storage;
    private boolean closed;

    private TestDatabase(String url, String dropStatement, String adminUrl) {
      this.url = url;
      this.dropStatement = dropStatement;
      this.adminUrl = adminUrl;
    }

    /** The JDBC URL of this database; open more storages on it with {@link Storage#fromUrl}. */
    public String url() {
      return url;
    }

    /** A storage on {@link #url()}, opened on the first call (tables created) and then reused. */
    public synchronized Storage storage() {
      if (closed) {
        throw new IllegalStateException("TestDatabase [" + Storage.redact(url) + "] is closed");
      }
      if (storage == null) {
        storage = Storage.fromUrl(url);
      }
      return storage;
    }

    /**
     * Closes {@link #storage()} and removes the database (drops the PostgreSQL schema, shuts H2
     * down). Close other storages on it first. Idempotent.
     */
    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (storage != null) {
        storage.close();
      }
      try (Connection connection =
              adminUrl.startsWith("jdbc:postgresql:")
                  ? connectPostgres(adminUrl)
                  : DriverManager.getConnection(adminUrl);
          Statement statement = connection.createStatement()) {
        statement.execute(dropStatement);
      } catch (SQLException e) {
        throw new IllegalStateException(
            "Cannot remove test database [" + Storage.redact(url) + "]", e);
      }
    }

    @Override
    public String toString() {
      return "TestDatabase(" + Storage.redact(url) + ")";
    }
  }
}
