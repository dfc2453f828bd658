package dev.troupe.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.storage.internal.JdbcUrls;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestDatabases;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class StorageTest {
  private static final String SECRET = "s3cret";
  private static final Duration NO_HANG = Duration.ofSeconds(30);

  // --- tables

  @Test
  void createsTheLibraryTablesWhenItOpens() throws SQLException {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      assertTrue(tableExists(storage, "troupe_schema"), "troupe_schema exists");
      assertEquals(1, recordedVersion(storage, "troupe-core"));
    }
  }

  @Test
  void opensTwiceOnOneDatabaseWithoutError() throws SQLException {
    String url = TestDatabases.freshH2Url();
    try (Storage first = Storage.fromUrl(url);
        Storage second = Storage.fromUrl(url)) {
      assertEquals(1, countRows(second, "troupe-core"));
      assertEquals(1, recordedVersion(first, "troupe-core"));
    }
    try (Storage again = Storage.fromUrl(url)) {
      assertEquals(1, countRows(again, "troupe-core"));
    }
  }

  @Test
  void anH2FileDatabaseWritesEveryCommitBeforeItReturns(@TempDir Path dir) throws SQLException {
    String url = "jdbc:h2:file:" + dir.resolve("durable") + ";AUTO_SERVER=TRUE";
    try (Storage storage = Storage.fromUrl(url);
        Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                    + " WHERE SETTING_NAME = 'WRITE_DELAY'")) {
      assertTrue(rs.next(), "WRITE_DELAY is listed");
      assertEquals("0", rs.getString(1));
    }
    assertEquals(
        "jdbc:h2:file:x;WRITE_DELAY=100", Storage.durable("jdbc:h2:file:x;WRITE_DELAY=100"));
    assertEquals("jdbc:h2:mem:x", Storage.durable("jdbc:h2:mem:x"));
    assertEquals("jdbc:postgresql://h/db", Storage.durable("jdbc:postgresql://h/db"));
  }

  @Test
  void detectsH2FromTheDriver() {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      assertEquals(Dialect.H2, storage.dialect());
      assertFalse(storage.isPostgres());
    }
  }

  @Test
  void appliesASchemaRegisteredInCodeOnlyOnce() throws SQLException {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1()));
      insertOrder(storage, "o-1");
      storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1()));

      assertEquals(1, recordedVersion(storage, "troupe-test-orders"));
      assertEquals(1, countRows(storage, "troupe-test-orders"));
      assertEquals(1, count(storage, "SELECT COUNT(*) FROM troupe_test_orders"), "rows kept");
    }
  }

  @Test
  void upgradesASchemaWhoseVersionRisesAndNeverDowngradesIt() throws SQLException {
    List<String> v2 =
        List.of(
            ordersV1().get(0),
            "ALTER TABLE troupe_test_orders ADD COLUMN IF NOT EXISTS note VARCHAR(100)");
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1()));
      storage.ensureSchema(new TestSchema("troupe-test-orders", 2, v2));
      assertEquals(2, recordedVersion(storage, "troupe-test-orders"));
      assertEquals(0, count(storage, "SELECT COUNT(note) FROM troupe_test_orders"), "new column");

      storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1()));
      assertEquals(2, recordedVersion(storage, "troupe-test-orders"), "an older node");
    }
  }

  @Test
  void appliesSchemasDiscoveredThroughTheServiceLoader(@TempDir Path dir) throws Exception {
    Path services = Files.createDirectories(dir.resolve("META-INF/services"));
    Files.writeString(
        services.resolve(StorageSchema.class.getName()), DiscoveredSchema.class.getName() + "\n");
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      thread.setContextClassLoader(loader);
      try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
        assertTrue(tableExists(storage, "troupe_test_discovered"), "discovered table exists");
        assertEquals(3, recordedVersion(storage, "troupe-test-discovered"));
        assertEquals(1, recordedVersion(storage, "troupe-core"));
      }
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  @Test
  void createsNoTablesWhenCreateTablesIsOff() throws SQLException {
    StorageSettings settings =
        StorageSettings.defaults().withUrl(TestDatabases.freshH2Url()).withCreateTables(false);
    try (Storage storage = Storage.create(settings)) {
      storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1()));
      assertFalse(tableExists(storage, "troupe_schema"), "troupe_schema exists");
      assertFalse(tableExists(storage, "troupe_test_orders"), "troupe_test_orders exists");
    }
  }

  @Test
  void namesTheSchemaWhoseStatementFails() {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      StorageException e =
          assertThrows(
              StorageException.class,
              () -> storage.ensureSchema(new TestSchema("troupe-test-bad", 1, List.of("NOT SQL"))));
      assertTrue(e.getMessage().contains("[troupe-test-bad] version 1"), e.getMessage());
      assertTrue(e.getMessage().contains(storage.displayUrl()), e.getMessage());
    }
  }

  @Test
  void rejectsASchemaWithoutNameOrVersion() {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      IllegalArgumentException noName =
          assertThrows(
              IllegalArgumentException.class,
              () -> storage.ensureSchema(new TestSchema(" ", 1, ordersV1())));
      assertTrue(noName.getMessage().contains("name() must have 1..200 characters"));
      IllegalArgumentException noVersion =
          assertThrows(
              IllegalArgumentException.class,
              () -> storage.ensureSchema(new TestSchema("troupe-test-orders", 0, ordersV1())));
      assertTrue(noVersion.getMessage().contains("version() must be >= 1, got: 0"));
      assertThrows(IllegalArgumentException.class, () -> storage.ensureSchema(null));
    }
  }

  @Test
  void refusesASchemaAfterClose() {
    Storage storage = Storage.fromUrl(TestDatabases.freshH2Url());
    storage.close();
    storage.close();
    assertTrue(storage.isClosed());
    assertThrows(
        IllegalStateException.class,
        () -> storage.ensureSchema(new TestSchema("troupe-test-orders", 1, ordersV1())));
  }

  // --- settings

  @Test
  void readsTheDefaultsFromReferenceConf() {
    StorageSettings settings = StorageSettings.defaults();
    assertEquals("jdbc:h2:file:./data/troupe", settings.url());
    assertEquals("", settings.user());
    assertEquals(10, settings.maximumPoolSize());
    assertEquals(2, settings.minimumIdle());
    assertEquals(Duration.ofSeconds(5), settings.connectionTimeout());
    assertEquals(Duration.ofSeconds(3), settings.validationTimeout());
    assertEquals(Duration.ofSeconds(60), settings.schemaLockTimeout());
    assertTrue(settings.createTables());
  }

  @Test
  void readsASectionAndTakesMissingKeysFromTheDefaults() {
    StorageSettings settings =
        StorageSettings.fromConfig(
            ConfigFactory.parseString("url = \"jdbc:h2:mem:x\"\nmaximum-pool-size = 3"));
    assertEquals("jdbc:h2:mem:x", settings.url());
    assertEquals(3, settings.maximumPoolSize());
    assertEquals(Duration.ofSeconds(5), settings.connectionTimeout());
    assertEquals(Duration.ofSeconds(15), settings.socketTimeout());
    assertEquals(Duration.ZERO, settings.withSocketTimeout(Duration.ZERO).socketTimeout());
  }

  @Test
  void namesTheFullKeyOfAnInvalidSetting() {
    StorageSettings defaults = StorageSettings.defaults();
    assertInvalid(
        "troupe.storage.maximum-pool-size must be >= 1, got: 0",
        () -> defaults.withMaximumPoolSize(0));
    assertInvalid(
        "troupe.storage.minimum-idle must be >= 0, got: -1", () -> defaults.withMinimumIdle(-1));
    assertInvalid(
        "troupe.storage.connection-timeout must be >= 250ms, got: 100ms",
        () -> defaults.withConnectionTimeout(Duration.ofMillis(100)));
    assertInvalid(
        "troupe.storage.validation-timeout must be >= 250ms, got: 0ms",
        () -> defaults.withValidationTimeout(Duration.ZERO));
    assertInvalid(
        "troupe.storage.schema-lock-timeout must be >= 1ms, got: 0ms",
        () -> defaults.withSchemaLockTimeout(Duration.ZERO));
    assertInvalid(
        "troupe.storage.socket-timeout must be 0 (off) or >= 1s, got: 500ms",
        () -> defaults.withSocketTimeout(Duration.ofMillis(500)));
    assertInvalid("troupe.storage.url must not be empty, got: [ ]", () -> defaults.withUrl(" "));
    assertInvalid("troupe.storage.url must not be null", () -> defaults.withUrl(null));
    assertInvalid("troupe.storage.password must not be null", () -> defaults.withPassword(null));
    assertInvalid(
        "troupe.storage.maximum-pool-size must be >= 1, got: 0",
        () -> StorageSettings.fromConfig(ConfigFactory.parseString("maximum-pool-size = 0")));
  }

  @Test
  void capsMinimumIdleAndValidationTimeoutInsteadOfRejectingThem() {
    StorageSettings settings =
        StorageSettings.defaults()
            .withUrl(TestDatabases.freshH2Url())
            .withMaximumPoolSize(1)
            .withConnectionTimeout(Duration.ofSeconds(1));
    assertEquals(2, settings.minimumIdle());
    try (Storage storage = Storage.create(settings)) {
      assertEquals(Dialect.H2, storage.dialect());
    }
  }

  @Test
  void neverShowsThePasswordInSettings() {
    StorageSettings settings =
        StorageSettings.defaults()
            .withUrl("jdbc:postgresql://db/x?user=u&password=" + SECRET)
            .withPassword(SECRET);
    assertFalse(settings.toString().contains(SECRET), settings.toString());
    assertTrue(settings.toString().contains("jdbc:postgresql://db/x?user=u"), settings.toString());
  }

  // --- URLs and errors

  @Test
  void rejectsANullOrBlankUrl() {
    assertInvalid("jdbcUrl must not be null", () -> Storage.fromUrl(null));
    assertInvalid("jdbcUrl must not be empty, got: [  ]", () -> Storage.fromUrl("  "));
  }

  @Test
  void rejectsAUrlThatIsNotJdbcNamingItWithoutThePassword() {
    StorageException e =
        assertThrows(
            StorageException.class, () -> Storage.fromUrl("postgres://u:" + SECRET + "@db/x"));
    assertTrue(e.getMessage().contains("[postgres://u@db/x]"), e.getMessage());
    assertTrue(e.getMessage().contains("must start with \"jdbc:\""), e.getMessage());
    assertNoSecret(e);
  }

  @Test
  void rejectsAUrlNoDriverAcceptsNamingItWithoutThePassword() {
    StorageException e =
        assertThrows(
            StorageException.class,
            () -> Storage.fromUrl("jdbc:nosuchdb://db/x;user=u;password=" + SECRET));
    assertTrue(e.getMessage().contains("[jdbc:nosuchdb://db/x;user=u]"), e.getMessage());
    assertTrue(e.getMessage().contains("no JDBC driver"), e.getMessage());
    assertTrue(e.getMessage().contains("add the JDBC driver for this URL"), e.getMessage());
    assertNoSecret(e);
  }

  @Test
  void aMissingDriverIsNamedByItsMavenCoordinates() {
    // troupe-core leaves the drivers to the application: the error says which one to add.
    assertTrue(Storage.driverHint("jdbc:h2:file:./db").contains("com.h2database:h2"));
    assertTrue(
        Storage.driverHint("JDBC:PostgreSQL://db:5432/x").contains("org.postgresql:postgresql"));
  }

  @Test
  void failsWithinTheConnectionTimeoutWhenTheDatabaseIsUnreachable() {
    StorageException e =
        assertTimeoutPreemptively(
            NO_HANG,
            () ->
                assertThrows(
                    StorageException.class,
                    () ->
                        Storage.fromUrl(
                            "jdbc:postgresql://127.0.0.1:1/x?user=u&password=" + SECRET)));
    assertTrue(e.getMessage().contains("127.0.0.1:1"), e.getMessage());
    assertTrue(
        e.getMessage().startsWith("Cannot open storage [jdbc:postgresql://127.0.0.1:1/x?user=u]: "),
        e.getMessage());
    assertNoSecret(e);
  }

  @Test
  void neverRevealsAPasswordGivenInTheSettings() {
    StorageSettings settings =
        StorageSettings.defaults()
            .withUrl("jdbc:postgresql://127.0.0.1:1/x")
            .withUser("u")
            .withPassword(SECRET)
            .withConnectionTimeout(Duration.ofSeconds(1));
    StorageException e =
        assertTimeoutPreemptively(
            NO_HANG, () -> assertThrows(StorageException.class, () -> Storage.create(settings)));
    assertTrue(e.getMessage().contains("[jdbc:postgresql://127.0.0.1:1/x]"), e.getMessage());
    assertNoSecret(e);
  }

  @Test
  void reportsRefusedCredentialsWithoutThePassword() {
    String url = TestDatabases.freshH2Url() + ";USER=sa;PASSWORD=right";
    try (Storage owner = Storage.fromUrl(url)) {
      assertFalse(owner.displayUrl().contains("right"), owner.displayUrl());
      StorageSettings wrong =
          StorageSettings.defaults()
              .withUrl(url.replace("PASSWORD=right", "PASSWORD=" + SECRET))
              .withConnectionTimeout(Duration.ofSeconds(1));
      StorageException e = assertThrows(StorageException.class, () -> Storage.create(wrong));
      assertTrue(e.getMessage().contains(owner.displayUrl()), e.getMessage());
      assertNoSecret(e);
    }
  }

  @Test
  void displaysUrlsWithEveryPasswordRemoved() {
    assertEquals(
        "jdbc:postgresql://db:5432/x?user=u",
        JdbcUrls.redact("jdbc:postgresql://db:5432/x?user=u&password=p"));
    assertEquals(
        "jdbc:postgresql://db/x?user=u",
        JdbcUrls.redact("jdbc:postgresql://db/x?password=p&user=u"));
    assertEquals("jdbc:postgresql://db/x", JdbcUrls.redact("jdbc:postgresql://db/x?password=p"));
    assertEquals(
        "jdbc:postgresql://db/x?ssl=true",
        JdbcUrls.redact("jdbc:postgresql://db/x?sslpassword=p&ssl=true"));
    assertEquals("jdbc:postgresql://u@db/x", JdbcUrls.redact("jdbc:postgresql://u:p@db/x"));
    assertEquals("jdbc:postgresql://db/x", JdbcUrls.redact("jdbc:postgresql://:p@db/x"));
    assertEquals(
        "jdbc:h2:mem:x;USER=sa;MODE=PostgreSQL",
        JdbcUrls.redact("jdbc:h2:mem:x;USER=sa;PASSWORD=p;MODE=PostgreSQL"));
    assertEquals(
        "jdbc:postgresql://h1:5432,h2:5432/x?user=a@b.c",
        JdbcUrls.redact("jdbc:postgresql://h1:5432,h2:5432/x?user=a@b.c"));
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url() + ";PASSWORD=" + SECRET)) {
      assertFalse(storage.displayUrl().contains(SECRET), storage.displayUrl());
      assertFalse(storage.toString().contains(SECRET), storage.toString());
    }
  }

  // --- one storage per actor system

  @Test
  void sharesOneStoragePerActorSystemAndClosesItWhenTheSystemTerminates() {
    String url = TestDatabases.freshH2Url();
    ActorTestKit testKit =
        ActorTestKit.create(systemConfig("troupe.storage.url = \"" + url + "\""));
    Storage shared;
    try {
      shared = Storage.get(testKit.system());
      assertSame(shared, Storage.get(testKit.system()));
      assertEquals(url, shared.settings().url());
      try (Storage own = Storage.create(testKit.system())) {
        assertFalse(own == shared, "create(system) opens a storage of its own");
      }
      assertFalse(shared.isClosed(), "closing another storage left the shared one open");
    } finally {
      testKit.shutdownTestKit();
    }
    Eventually.awaitCondition(
        Duration.ofSeconds(10), "shared storage closed after termination", shared::isClosed);
    assertThrows(IllegalStateException.class, () -> Storage.get(testKit.system()));
  }

  @Test
  void opensTheSharedStorageOnALaterCallWhenTheFirstFailed() throws SQLException {
    String url = TestDatabases.freshH2Url();
    // IFEXISTS: H2 refuses to create the database, so opening fails until it exists.
    ActorTestKit testKit =
        ActorTestKit.create(
            systemConfig(
                "troupe.storage.url = \""
                    + url
                    + ";IFEXISTS=TRUE\"\ntroupe.storage.connection-timeout = 1s"));
    try {
      assertThrows(StorageException.class, () -> Storage.get(testKit.system()));
      try (Connection creator = DriverManager.getConnection(url)) {
        assertTrue(creator.isValid(1), "database created");
        Storage shared = Storage.get(testKit.system());
        assertSame(shared, Storage.get(testKit.system()));
        assertTrue(tableExists(shared, "troupe_schema"), "troupe_schema exists");
      }
    } finally {
      testKit.shutdownTestKit();
    }
  }

  // --- helpers

  private static Config systemConfig(String overrides) {
    return ConfigFactory.load(
        ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultApplication()));
  }

  /** A schema registered in code; a record so that tests read short. */
  private record TestSchema(String name, int version, List<String> sql) implements StorageSchema {
    @Override
    public List<String> statements(Dialect dialect) {
      return sql;
    }
  }

  /** Found by the ServiceLoader through the services file the test writes. */
  public static final class DiscoveredSchema implements StorageSchema {
    @Override
    public String name() {
      return "troupe-test-discovered";
    }

    @Override
    public int version() {
      return 3;
    }

    @Override
    public List<String> statements(Dialect dialect) {
      return List.of(
          "CREATE TABLE IF NOT EXISTS troupe_test_discovered (id VARCHAR(50) PRIMARY KEY)",
          "CREATE INDEX IF NOT EXISTS troupe_test_discovered_id ON troupe_test_discovered (id)");
    }
  }

  private static List<String> ordersV1() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS troupe_test_orders (id VARCHAR(50) PRIMARY KEY)",
        "CREATE INDEX IF NOT EXISTS troupe_test_orders_id ON troupe_test_orders (id)");
  }

  private static void insertOrder(Storage storage, String id) throws SQLException {
    try (Connection connection = storage.dataSource().getConnection();
        PreparedStatement insert =
            connection.prepareStatement("INSERT INTO troupe_test_orders (id) VALUES (?)")) {
      insert.setString(1, id);
      insert.executeUpdate();
    }
  }

  static boolean tableExists(Storage storage, String table) throws SQLException {
    return count(
            storage,
            "SELECT COUNT(*) FROM information_schema.tables"
                + " WHERE LOWER(table_name) = '"
                + table
                + "' AND table_schema = CURRENT_SCHEMA")
        == 1;
  }

  static int recordedVersion(Storage storage, String schema) throws SQLException {
    return count(storage, "SELECT version FROM troupe_schema WHERE name = '" + schema + "'");
  }

  static int countRows(Storage storage, String schema) throws SQLException {
    return count(storage, "SELECT COUNT(*) FROM troupe_schema WHERE name = '" + schema + "'");
  }

  static int count(Storage storage, String query) throws SQLException {
    try (Connection connection = storage.dataSource().getConnection();
        PreparedStatement select = connection.prepareStatement(query);
        ResultSet rows = select.executeQuery()) {
      assertTrue(rows.next(), "a row for: " + query);
      return rows.getInt(1);
    }
  }

  private static void assertInvalid(String message, Supplier<?> action) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::get);
    assertEquals(message, e.getMessage());
  }

  /** Neither the message nor any cause, suppressed exception or stack trace names the secret. */
  static void assertNoSecret(Throwable e) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertFalse(trace.toString().contains(SECRET), trace.toString());
  }
}
