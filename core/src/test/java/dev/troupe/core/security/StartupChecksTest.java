package dev.troupe.core.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.internal.NodeConfig;
import dev.troupe.core.internal.PeerNames;
import dev.troupe.core.internal.StartupChecks;
import dev.troupe.core.internal.TlsSettings;
import dev.troupe.core.internal.TwoNodeWarning;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What a node refuses to start with (FAULTS.md B8, S4, S5, S6), and the certificate script. */
final class StartupChecksTest {
  private static final String SEED = "pekko://troupe@127.0.0.1:2551";

  @TempDir static Path certs;

  @BeforeAll
  static void makeCertificates() {
    Certificates.make(certs, "chat.troupe.test", "n1", "n2", "n3");
    Certificates.make(certs, "unrelated.example", "stranger");
  }

  private static IllegalArgumentException refused(String hocon, boolean withSeed) {
    NodeOptions.Builder builder = NodeOptions.builder().port(0).config(hocon);
    if (withSeed) {
      builder.seedNodes(List.of(SEED));
    }
    // NodeOptions.build() checks the profile names; TroupeNode.start() checks the rest.
    return assertThrows(IllegalArgumentException.class, () -> TroupeNode.start(builder.build()));
  }

  private static void assertNames(IllegalArgumentException e, String setting) {
    assertTrue(e.getMessage().contains(setting), e.getMessage());
  }

  @Test
  void aNodeWithoutADowningProviderIsRefused() {
    assertNames(
        refused("pekko.cluster.downing-provider-class = \"\"", false),
        "pekko.cluster.downing-provider-class");
  }

  @Test
  void aNodeWithJavaSerializationIsRefused() {
    assertNames(
        refused("pekko.actor.allow-java-serialization = on", false),
        "pekko.actor.allow-java-serialization");
  }

  @Test
  void aNamespaceOutsideItsAlphabetIsRefusedWithTheValue() {
    IllegalArgumentException e = refused("troupe.namespace = \"shop floor\"", false);
    assertNames(e, "troupe.namespace");
    assertTrue(e.getMessage().contains("[shop floor]"), e.getMessage());
  }

  @Test
  void anUnknownProfileIsRefused() {
    assertNames(refused("troupe.profile = prod", false), "troupe.profile");
  }

  @Test
  void productionRefusesAPrivateH2DatabaseForAMultiNodeCluster() {
    for (String url : List.of("jdbc:h2:mem:x", "jdbc:h2:file:./data/troupe", "jdbc:h2:./data/t")) {
      IllegalArgumentException e =
          refused(
              Certificates.production(certs, "n1") + "troupe.storage.url = \"" + url + "\"", true);
      assertNames(e, "troupe.storage.url");
      assertTrue(e.getMessage().contains(url), e.getMessage());
    }
    assertFalse(StartupChecks.isPrivateH2("jdbc:h2:file:./data/troupe;AUTO_SERVER=TRUE"));
    assertFalse(StartupChecks.isPrivateH2("jdbc:h2:tcp://db:9092/troupe"));
    assertFalse(StartupChecks.isPrivateH2("jdbc:postgresql://127.0.0.1:5432/test"));
  }

  private static final String SHARED_H2 =
      "troupe.storage.url = \"jdbc:h2:file:./target/p;AUTO_SERVER=TRUE\"\n";

  @Test
  void productionRefusesThePlaceholderOrAnEmptyPasswordNamingTheSetting() {
    String base = Certificates.production(certs, "n1") + SHARED_H2;
    for (String setting : List.of("key-store-password", "trust-store-password", "key-password")) {
      for (String value : List.of("changeit", "")) {
        IllegalArgumentException e =
            refused(base + "troupe.security.tls." + setting + " = \"" + value + "\"", true);
        assertNames(e, "troupe.security.tls." + setting);
      }
    }
  }

  @Test
  void productionRefusesAKeyStoreOthersCanRead() throws Exception {
    Path open = certs.resolve("readable-n1.p12");
    Files.copy(certs.resolve("n1.p12"), open, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalArgumentException e =
        refused(
            Certificates.production(certs, "n1")
                + SHARED_H2
                + "troupe.security.tls.key-store = \""
                + open
                + "\"",
            true);
    assertNames(e, "troupe.security.tls.key-store");
    assertTrue(e.getMessage().contains("rw-r--r--") && e.getMessage().contains("chmod 600"));
    assertEquals(
        PosixFilePermissions.fromString("rw-------"),
        Files.getPosixFilePermissions(certs.resolve("n1.p12")),
        "troupe-certs makes key stores that only their owner reads");
  }

  @Test
  void productionRefusesAPostgresUrlThatDoesNotRequireTls() {
    String base = Certificates.production(certs, "n1");
    for (String url :
        List.of(
            "jdbc:postgresql://db:5432/troupe?user=troupe&password=secret",
            "jdbc:postgresql://db:5432/troupe?sslmode=prefer",
            "jdbc:postgresql://db:5432/troupe?sslmode=disable&user=troupe")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  StartupChecks.check(
                      NodeOptions.builder()
                          .config(base + "troupe.storage.url = \"" + url + "\"")
                          .build()
                          .toConfig(),
                      true));
      assertNames(e, "troupe.storage.url");
      assertTrue(e.getMessage().contains("sslmode=require"), e.getMessage());
      assertFalse(e.getMessage().contains("secret"), "the password is not shown: " + e);
    }
    for (String mode : List.of("require", "verify-ca", "verify-full")) {
      StartupChecks.check(
          NodeOptions.builder()
              .config(
                  base
                      + "troupe.storage.url = \"jdbc:postgresql://db:5432/troupe?sslmode="
                      + mode
                      + "\"")
              .build()
              .toConfig(),
          true);
    }
  }

  @Test
  void productionWithManagementRefusesAMissingOrShortOperatorTokenNamingTheSetting() {
    String base =
        Certificates.production(certs, "n1") + SHARED_H2 + "troupe.core.management.enabled = on\n";
    for (String token : List.of("", "short-token")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  StartupChecks.check(
                      NodeOptions.builder()
                          .config(base + "troupe.security.access-token = \"" + token + "\"")
                          .build()
                          .toConfig(),
                      true));
      assertNames(e, "troupe.security.access-token");
      assertTrue(e.getMessage().contains("TROUPE_ACCESS_TOKEN"), e.getMessage());
      assertFalse(!token.isEmpty() && e.getMessage().contains(token), "the token is not shown");
    }
    StartupChecks.check(
        NodeOptions.builder()
            .config(base + "troupe.security.access-token = \"a-long-enough-operator-token\"")
            .build()
            .toConfig(),
        true);
  }

  @Test
  void theOperatorTokenPutsManagementRoutesOtherThanTheProbesAndBootstrapBehindIt() {
    String routes = "pekko.management.http.routes";
    Config open = NodeOptions.builder().build().toConfig();
    assertEquals(
        "org.apache.pekko.management.cluster.ClusterHttpManagementRouteProvider",
        open.getString(routes + ".cluster-management"),
        "without a token Management's routes are as configured");
    assertFalse(open.hasPath(routes + ".troupe-guarded"));

    Config guarded =
        NodeOptions.builder()
            .config("troupe.security.access-token = \"a-long-enough-operator-token\"")
            .build()
            .toConfig();
    assertEquals("", guarded.getString(routes + ".cluster-management"));
    assertEquals(
        "org.apache.pekko.management.cluster.ClusterHttpManagementRouteProvider",
        guarded.getString("troupe.core.management.guarded-routes.cluster-management"));
    assertEquals(
        "dev.troupe.core.health.GuardedManagementRoutes",
        guarded.getString(routes + ".troupe-guarded"));
    assertEquals(
        open.getString(routes + ".health-checks"),
        guarded.getString(routes + ".health-checks"),
        "the health checks stay open");
  }

  @Test
  void developmentWarnsWhenRemotingListensBeyondLoopbackInPlaintext() {
    Logger logger = (Logger) LoggerFactory.getLogger(StartupChecks.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      StartupChecks.check(NodeOptions.builder().host("127.0.0.1").build().toConfig(), false);
      assertTrue(appender.list.isEmpty(), "loopback: no warning " + appender.list);
      StartupChecks.check(NodeOptions.builder().host("10.9.8.7").build().toConfig(), false);
      assertEquals(1, appender.list.size(), appender.list.toString());
      String warning = appender.list.get(0).getFormattedMessage();
      assertTrue(warning.contains("[10.9.8.7]") && warning.contains("without TLS"), warning);
      appender.list.clear();
      StartupChecks.check(
          NodeOptions.builder()
              .host("127.0.0.1")
              .config("pekko.remote.artery.bind.hostname = \"0.0.0.0\"")
              .build()
              .toConfig(),
          false);
      assertEquals(1, appender.list.size(), "bound to every interface: " + appender.list);
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void productionRefusesTlsSettingsThatAdmitUncheckedPeers() {
    String base =
        Certificates.production(certs, "n1")
            + "troupe.storage.url = \"jdbc:h2:file:./target/p;AUTO_SERVER=TRUE\"\n";
    assertNames(
        refused(base + "pekko.remote.artery.transport = tcp", true),
        "pekko.remote.artery.transport");
    assertNames(
        refused(
            base
                + "pekko.remote.artery.ssl.ssl-engine-provider ="
                + " org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider",
            true),
        "pekko.remote.artery.ssl.ssl-engine-provider");
    assertNames(
        refused(
            base + "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication = off",
            true),
        "require-mutual-authentication");
    assertNames(
        refused(base + "pekko.remote.artery.ssl.config-ssl-engine.protocol = TLSv1.2", true),
        "pekko.remote.artery.ssl.config-ssl-engine.protocol");
    assertNames(
        refused(base + "troupe.security.tls.key-store = \"/nonexistent/node.p12\"", true),
        "troupe.security.tls.key-store");
    assertNames(
        refused(base + "troupe.security.tls.peer-name-pattern = \"[\"", true),
        "troupe.security.tls.peer-name-pattern");
  }

  @Test
  void productionRefusesATlsReloadIntervalThatIsNotAPositiveDuration() {
    String base =
        Certificates.production(certs, "n1")
            + "troupe.storage.url = \"jdbc:h2:file:./target/p;AUTO_SERVER=TRUE\"\n";
    for (String value : List.of("0s", "-5s", "soon")) {
      IllegalArgumentException e =
          refused(base + "troupe.security.tls.reload-interval = " + value, true);
      assertNames(e, "troupe.security.tls.reload-interval");
    }
    Config defaults =
        NodeConfig.build(
            NodeOptions.builder().config(Certificates.production(certs, "n1")).build());
    assertEquals(Duration.ofSeconds(10), TlsSettings.fromConfig(defaults).reloadInterval());
    Config custom =
        ConfigFactory.parseString("troupe.security.tls.reload-interval = 250ms")
            .withFallback(defaults);
    assertEquals(Duration.ofMillis(250), TlsSettings.fromConfig(custom).reloadInterval());
    assertNames(
        assertThrows(IllegalArgumentException.class, () -> new TlsSettings(Duration.ZERO)),
        "troupe.security.tls.reload-interval");
  }

  @Test
  void theProductionProfileTurnsOnMutualTls13WithThePeerCheck() {
    Config config =
        NodeConfig.build(
            NodeOptions.builder().config(Certificates.production(certs, "n1")).build());
    assertEquals("tls-tcp", config.getString("pekko.remote.artery.transport"));
    assertEquals(
        "dev.troupe.core.internal.PeerCheckingSslEngineProvider",
        config.getString("pekko.remote.artery.ssl.ssl-engine-provider"));
    assertTrue(
        config.getBoolean(
            "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication"));
    assertEquals("TLSv1.3", config.getString("pekko.remote.artery.ssl.config-ssl-engine.protocol"));
    assertEquals(
        certs.resolve("n1.p12").toString(),
        config.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store"));
    Config development = NodeConfig.build(NodeOptions.builder().build());
    assertEquals("tcp", development.getString("pekko.remote.artery.transport"));
  }

  @Test
  void thePeerPatternIsDerivedFromTheNodesOwnCertificate() throws Exception {
    Config config =
        NodeConfig.build(
            NodeOptions.builder().config(Certificates.production(certs, "n1")).build());
    Pattern pattern = PeerNames.pattern(config);
    assertTrue(PeerNames.admits(pattern, certificate("n2")));
    assertTrue(PeerNames.admits(pattern, certificate("n3")));
    assertFalse(PeerNames.admits(pattern, certificate("stranger")), pattern.pattern());
    Config explicit =
        ConfigFactory.parseString("troupe.security.tls.peer-name-pattern = \"n[12]\\\\..*\"")
            .withFallback(config);
    assertFalse(PeerNames.admits(PeerNames.pattern(explicit), certificate("n3")));
  }

  @Test
  void theScriptIssuesDistinctRsaNodeCertificatesSignedByTheCaWithNoGenericName() throws Exception {
    X509Certificate ca = certificate("ca");
    Set<String> names = new HashSet<>();
    for (String node : List.of("n1", "n2", "n3", "stranger")) {
      X509Certificate cert = certificate(node);
      assertTrue(cert.getPublicKey() instanceof RSAPublicKey, node + ": RSA");
      assertEquals(ca.getSubjectX500Principal(), cert.getIssuerX500Principal(), node);
      cert.verify(ca.getPublicKey()); // signed by the CA
      List<String> own = PeerNames.names(cert);
      assertFalse(own.isEmpty(), node);
      for (String name : own) {
        assertFalse(name.equalsIgnoreCase("localhost") || !name.contains("."), node + ": " + name);
      }
      assertTrue(names.add(own.get(0)), "shared name " + own.get(0));
    }
    assertThrows(IllegalStateException.class, () -> Certificates.make(certs, "localhost", "n4"));
  }

  @Test
  void twoNodesUnderAMajorityStrategyAreAFullOutageRisk() {
    Config defaults = NodeConfig.build(NodeOptions.builder().build());
    assertTrue(TwoNodeWarning.atRisk(defaults));
    for (String strategy : List.of("lease-majority", "static-quorum")) {
      Config safe =
          ConfigFactory.parseString(
                  "pekko.cluster.split-brain-resolver.active-strategy = " + strategy)
              .withFallback(defaults);
      assertFalse(TwoNodeWarning.atRisk(safe), strategy);
    }
  }

  private static X509Certificate certificate(String name) throws Exception {
    Path file = certs.resolve(name + ".p12");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, Certificates.PASSWORD.toCharArray());
    }
    return (X509Certificate) store.getCertificate(name.equals("ca") ? "ca" : "node");
  }
}
