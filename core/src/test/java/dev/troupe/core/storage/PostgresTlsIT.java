package dev.troupe.core.storage;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.internal.StartupChecks;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 20, item 4: a node's storage on PostgreSQL over TLS with {@code sslmode=verify-full}
 * against a CA the test makes. The test gives the local server a certificate from its own CA
 * (openssl; {@code ALTER SYSTEM} + {@code pg_reload_conf()}: no restart), connects through Troupe's
 * {@link Storage} checking the server's name, sees that a client trusting another CA is refused,
 * and restores the server's settings. It needs the local test PostgreSQL and root (to hand the key
 * file to the {@code postgres} user); {@code CI=true} must run it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class PostgresTlsIT {
  private Path dir;
  private String base; // the test URL without parameters: jdbc:postgresql://127.0.0.1:5432/test

  private static void require(boolean condition, String why) {
    if (condition) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail("CI must run the PostgreSQL TLS test, but " + why);
    }
    Assumptions.abort(why);
  }

  private static void run(Path dir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }

  /** A CA and a certificate for localhost / 127.0.0.1 signed by it, in PEM, under {@code dir}. */
  private static void makeCertificates(Path dir, String ca) throws Exception {
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=" + ca,
        "-keyout",
        ca + ".key",
        "-out",
        ca + ".crt");
  }

  private static void execute(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(TestDatabases.postgresUrl());
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @BeforeAll
  void giveTheServerACertificateFromOurCa() throws Exception {
    require(TestDatabases.postgresReachable(), "the test PostgreSQL is not reachable");
    String url = TestDatabases.postgresUrl();
    require(
        url.contains("//127.0.0.1:") || url.contains("//localhost:"),
        "the test PostgreSQL is not on this machine");
    require("root".equals(System.getProperty("user.name")), "this test runs as root only");
    require(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is missing");
    // 127.0.0.1, not localhost: verify-full then checks the certificate's IP address name, and
    // the server's pg_hba.conf may have no line for ::1.
    base = "jdbc:postgresql://127.0.0.1:" + url.replaceAll(".*//[^:/]+:(\\d+)/.*", "$1") + "/test";

    dir = Files.createTempDirectory("troupe-pg-tls-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    makeCertificates(dir, "troupe-test-ca");
    makeCertificates(dir, "other-ca");
    Files.writeString(dir.resolve("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    run(
        dir,
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr");
    run(
        dir,
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "troupe-test-ca.crt",
        "-CAkey",
        "troupe-test-ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt");
    UserPrincipal postgres =
        dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
    for (String file : List.of("server.key", "server.crt")) {
      Files.setOwner(dir.resolve(file), postgres);
    }
    Files.setPosixFilePermissions(
        dir.resolve("server.key"), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(
        dir.resolve("server.crt"), PosixFilePermissions.fromString("rw-r--r--"));
    for (String file : List.of("troupe-test-ca.crt", "other-ca.crt")) {
      Files.setPosixFilePermissions(
          dir.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
    }

    execute("ALTER SYSTEM SET ssl_cert_file = '" + dir.resolve("server.crt") + "'");
    execute("ALTER SYSTEM SET ssl_key_file = '" + dir.resolve("server.key") + "'");
    execute("ALTER SYSTEM SET ssl = on");
    execute("SELECT pg_reload_conf()");
  }

  @AfterAll
  void restoreTheServer() throws Exception {
    if (dir == null) {
      return;
    }
    execute("ALTER SYSTEM RESET ssl");
    execute("ALTER SYSTEM RESET ssl_cert_file");
    execute("ALTER SYSTEM RESET ssl_key_file");
    execute("SELECT pg_reload_conf()");
  }

  private String url(String ca) {
    return base
        + "?user=postgres&password=postgres&sslmode=verify-full&sslrootcert="
        + dir.resolve(ca + ".crt");
  }

  @Test
  void aNodeReachesPostgresOverTlsCheckingTheServersNameAgainstItsCa() throws Exception {
    String url = url("troupe-test-ca");
    // The production profile accepts it (sslmode=verify-full) ...
    StartupChecks.checkStorageTls(url);
    // ... and Troupe's storage works over it, encrypted: the server says so for the session.
    // pg_reload_conf() is asynchronous: the postmaster loads the new files a moment later.
    Eventually.awaitAssert(
        Duration.ofSeconds(10),
        "a TLS session to PostgreSQL",
        () -> {
          try (Storage storage = Storage.fromUrl(url);
              Connection c = storage.dataSource().getConnection();
              Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertTrue(rs.next() && rs.getBoolean(1), "the session is encrypted");
          } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
          }
        });

    // A client that trusts another CA refuses the server.
    assertThrows(RuntimeException.class, () -> Storage.fromUrl(url("other-ca")).close());
  }

  @Test
  void theProductionProfileRefusesTheSameDatabaseWithoutTls() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StartupChecks.checkStorageTls(base + "?user=postgres&sslmode=prefer"));
    assertTrue(e.getMessage().contains("troupe.storage.url"), e.getMessage());
  }
}
