package dev.troupe.core.storage;

import static dev.troupe.core.storage.StorageTest.assertNoSecret;
import static dev.troupe.core.storage.StorageTest.count;
import static dev.troupe.core.storage.StorageTest.countRows;
import static dev.troupe.core.storage.StorageTest.recordedVersion;
import static dev.troupe.core.storage.StorageTest.tableExists;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Storage against the test PostgreSQL, each class run in a schema of its own. */
final class StoragePostgresTest {
  private static final int NODES = 4;

  private static TestDatabase db;

  @BeforeAll
  static void startInAFreshSchema() {
    TestDatabases.assumePostgres();
    db = TestDatabases.freshPostgres();
  }

  @AfterAll
  static void dropTheSchema() {
    if (db != null) {
      db.close();
    }
  }

  @Test
  void createsTheLibraryTablesInTheFreshSchema() throws SQLException {
    Storage storage = db.storage();
    assertTrue(tableExists(storage, "troupe_schema"), "troupe_schema in the test's schema");
    assertEquals(1, recordedVersion(storage, "troupe-core"));
  }

  @Test
  void detectsPostgresFromTheDriver() {
    assertTrue(db.storage().isPostgres());
    assertEquals(Dialect.POSTGRESQL, db.storage().dialect());
  }

  @Test
  void opensTwiceOnOneDatabaseWithoutError() throws SQLException {
    try (Storage first = Storage.fromUrl(db.url());
        Storage second = Storage.fromUrl(db.url())) {
      first.ensureSchema(invoices(1));
      second.ensureSchema(invoices(1));
      assertEquals(1, countRows(db.storage(), "troupe-core"));
      assertEquals(1, countRows(db.storage(), "troupe-test-invoices"));
    }
  }

  @Test
  void aReadLongerThanTheSocketTimeoutFailsInsteadOfHanging() throws SQLException {
    StorageSettings oneSecond =
        StorageSettings.defaults().withUrl(db.url()).withSocketTimeout(Duration.ofSeconds(1));
    try (Storage storage = Storage.create(oneSecond)) {
      long start = System.nanoTime();
      SQLException timedOut =
          assertThrows(
              SQLException.class,
              () -> {
                try (Connection c = storage.dataSource().getConnection();
                    Statement s = c.createStatement()) {
                  s.execute("SELECT pg_sleep(10)");
                }
              });
      long tookMillis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(tookMillis < 8_000, "failed after " + tookMillis + " ms: " + timedOut);
      assertEquals(1, count(storage, "SELECT 1"), "the pool replaced the connection");
    }
  }

  @Test
  void theServerEndsTheSessionOfASilentClientAfterAThirdOfTheSocketTimeoutPlusThreeSeconds()
      throws SQLException {
    try (Storage storage = Storage.create(StorageSettings.defaults().withUrl(db.url()))) {
      assertEquals(5, count(storage, "SELECT current_setting('tcp_keepalives_idle')::int"));
      assertEquals(1, count(storage, "SELECT current_setting('tcp_keepalives_interval')::int"));
      assertEquals(3, count(storage, "SELECT current_setting('tcp_keepalives_count')::int"));
    }
    StorageSettings off =
        StorageSettings.defaults().withUrl(db.url()).withSocketTimeout(Duration.ZERO);
    try (Storage storage = Storage.create(off)) {
      assertTrue(
          count(storage, "SELECT current_setting('tcp_keepalives_idle')::int") != 5,
          "socket-timeout 0 leaves the server's keepalive alone");
    }
  }

  @Test
  void aSocketTimeoutInTheUrlWinsOverTheSetting() throws SQLException {
    StorageSettings urlSays30 =
        StorageSettings.defaults()
            .withUrl(db.url() + "&socketTimeout=30")
            .withSocketTimeout(Duration.ofSeconds(1));
    try (Storage storage = Storage.create(urlSays30)) {
      assertEquals(1, count(storage, "SELECT 1 FROM (SELECT pg_sleep(2)) AS slept"));
    }
  }

  @Test
  void usesTheStatementsOfThePostgresDialect() throws SQLException {
    db.storage().ensureSchema(invoices(1));
    assertEquals(
        1,
        count(
            db.storage(),
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema"
                + " AND table_name = 'troupe_test_invoices' AND data_type = 'jsonb'"),
        "a JSONB column");
  }

  @Test
  void rollsBackEveryStatementOfASchemaThatFails() throws SQLException {
    StorageSchema broken =
        new StorageSchema() {
          @Override
          public String name() {
            return "troupe-test-broken";
          }

          @Override
          public int version() {
            return 1;
          }

          @Override
          public List<String> statements(Dialect dialect) {
            return List.of(
                "CREATE TABLE IF NOT EXISTS troupe_test_half (id BIGINT PRIMARY KEY)",
                "CREATE TABLE troupe_test_half_broken (id NO_SUCH_TYPE)");
          }
        };
    StorageException e =
        assertThrows(StorageException.class, () -> db.storage().ensureSchema(broken));
    assertTrue(e.getMessage().contains("[troupe-test-broken] version 1"), e.getMessage());
    assertFalse(tableExists(db.storage(), "troupe_test_half"), "first statement rolled back");
    assertEquals(0, countRows(db.storage(), "troupe-test-broken"));
  }

  @Test
  void fourNodesCreatingTheTablesAtOnceAllSucceed() throws Exception {
    try (TestDatabase fresh = TestDatabases.freshPostgres()) {
      List<Storage> storages = new CopyOnWriteArrayList<>();
      ExecutorService nodes = Executors.newFixedThreadPool(NODES);
      try {
        CyclicBarrier together = new CyclicBarrier(NODES);
        // Open at once (core's tables), then apply several schemas at once, each on every node.
        onEveryNode(nodes, node -> storages.add(startTogether(together, fresh.url())));
        assertEquals(NODES, storages.size());
        for (int round = 1; round <= 3; round++) {
          StorageSchema schema = manyTables("troupe_test_r" + round);
          onEveryNode(nodes, node -> ensureTogether(together, storages.get(node), schema));
          assertEquals(1, recordedVersion(storages.get(0), schema.name()), schema.name());
          assertTrue(tableExists(storages.get(0), "troupe_test_r" + round + "_4"), schema.name());
        }
        assertEquals(1, countRows(storages.get(0), "troupe-core"));
      } finally {
        nodes.shutdownNow();
        storages.forEach(Storage::close);
      }
    }
  }

  @Test
  void failsWithoutRevealingAWrongPassword() {
    String url = TestDatabases.postgresUrl().replaceAll("\\?.*$", "");
    String wrong = url + "?user=troupe_no_such_user&password=s3cret";
    StorageSettings settings =
        StorageSettings.defaults().withUrl(wrong).withConnectionTimeout(Duration.ofSeconds(1));
    StorageException e = assertThrows(StorageException.class, () -> Storage.create(settings));
    assertTrue(e.getMessage().contains("[" + url + "?user=troupe_no_such_user]"), e.getMessage());
    assertNoSecret(e);
  }

  private static StorageSchema invoices(int version) {
    return new StorageSchema() {
      @Override
      public String name() {
        return "troupe-test-invoices";
      }

      @Override
      public int version() {
        return version;
      }

      @Override
      public List<String> statements(Dialect dialect) {
        String json = dialect == Dialect.POSTGRESQL ? "JSONB" : "VARCHAR(10000)";
        return List.of(
            "CREATE TABLE IF NOT EXISTS troupe_test_invoices (id VARCHAR(50) PRIMARY KEY, body "
                + json
                + ")");
      }
    };
  }

  /** Tables, indexes and a sequence: each kind can race on pg_type or pg_class without the lock. */
  private static StorageSchema manyTables(String prefix) {
    return new StorageSchema() {
      @Override
      public String name() {
        return prefix.replace('_', '-');
      }

      @Override
      public int version() {
        return 1;
      }

      @Override
      public List<String> statements(Dialect dialect) {
        List<String> statements = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
          String table = prefix + "_" + i;
          statements.add(
              "CREATE TABLE IF NOT EXISTS "
                  + table
                  + " (id BIGSERIAL PRIMARY KEY, key VARCHAR(200) NOT NULL, body JSONB)");
          statements.add("CREATE INDEX IF NOT EXISTS " + table + "_key ON " + table + " (key)");
        }
        return statements;
      }
    };
  }

  /** Runs {@code task} once for each node index, all at the same time, and waits for all. */
  private static void onEveryNode(ExecutorService executor, IntConsumer task) throws Exception {
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      int index = node;
      futures.add(CompletableFuture.runAsync(() -> task.accept(index), executor));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  private static Storage startTogether(CyclicBarrier barrier, String url) {
    awaitBarrier(barrier);
    return Storage.fromUrl(url);
  }

  private static void ensureTogether(CyclicBarrier barrier, Storage storage, StorageSchema schema) {
    awaitBarrier(barrier);
    storage.ensureSchema(schema);
  }

  private static void awaitBarrier(CyclicBarrier barrier) {
    try {
      barrier.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("nodes did not start together", e);
    }
  }
}
