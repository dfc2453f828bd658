package dev.troupe.core.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.internal.PeerCheckingSslEngineProvider;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * FAULTS.md S1, S2, S3, S5 (expired, not yet valid), S9: under {@code troupe.profile = production}
 * nodes with the cluster's certificates form a cluster, and a node with another CA's certificate, a
 * plaintext node, a node with a same-CA certificate for an unrelated name, a node with an expired
 * certificate, one with a certificate that is not valid yet and a TLS 1.2 node never become
 * members. Checked through membership (every member event the seed ever saw), not logs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ProductionProfileIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(45);

  /** How long an intruder is given to join: several of Pekko's join retries (every 5 s). */
  private static final Duration INTRUDER_WINDOW = Duration.ofSeconds(20);

  @TempDir static Path certs;
  @TempDir static Path otherCa;
  @TempDir static Path db;

  private final List<TroupeNode> started = new ArrayList<>();
  private final Set<Address> everMember = ConcurrentHashMap.newKeySet();
  private TroupeNode seed;

  @BeforeAll
  void startSeed() {
    Certificates.make(certs, "chat.troupe.test", "n1", "n2", "n3", "legacy");
    Certificates.make(certs, "unrelated.example", "stranger"); // same CA, unrelated name
    Certificates.make( // same CA, right name, expired nine days ago
        Map.of("TROUPE_CERT_START", "-10d", "TROUPE_CERT_DAYS", "1"),
        certs,
        "chat.troupe.test",
        "expired");
    Certificates.make( // same CA, right name, valid only from the day after tomorrow
        Map.of("TROUPE_CERT_START", "+2d"), certs, "chat.troupe.test", "early");
    Certificates.make(otherCa, "chat.troupe.test", "n9"); // right name, another CA
    seed = start("n1", production(certs, "n1"), List.of());
    Cluster cluster = Cluster.get(seed.system());
    var listener =
        seed.system()
            .systemActorOf(
                Behaviors.<ClusterEvent.MemberEvent>receiveMessage(
                    event -> {
                      everMember.add(event.member().address());
                      return Behaviors.same();
                    }),
                "membershipWitness",
                org.apache.pekko.actor.typed.Props.empty());
    cluster.subscriptions().tell(Subscribe.create(listener, ClusterEvent.MemberEvent.class));
    Eventually.awaitCondition(TIMEOUT, "the seed Up", () -> seed.members().size() == 1);
  }

  @AfterAll
  void stopAll() {
    for (TroupeNode node : started) {
      node.system().terminate();
    }
    for (TroupeNode node : started) {
      node.system().getWhenTerminated().toCompletableFuture().join();
    }
  }

  private String production(Path dir, String node) {
    return Certificates.production(dir, node)
        + "troupe.storage.url = \"jdbc:h2:file:"
        + db.resolve("troupe")
        + ";AUTO_SERVER=TRUE\"\n";
  }

  private TroupeNode start(String name, String config, List<String> seeds) {
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name(name)
                .port(0)
                .seedNodes(seeds)
                .config(config + "\n" + TestCluster.TEST_CONFIG)
                .build());
    started.add(node);
    return node;
  }

  private List<String> seeds() {
    return List.of(seed.address().toString());
  }

  private static Instant notBefore(String node) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(certs.resolve(node + ".p12"))) {
      store.load(in, Certificates.PASSWORD.toCharArray());
    }
    return ((X509Certificate) store.getCertificate("node")).getNotBefore().toInstant();
  }

  @Test
  void nodesWithTheClustersCertificatesJoinAndIntrudersNeverDo() throws Exception {
    TroupeNode n2 = start("n2", production(certs, "n2"), seeds());
    n2.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    long refusedBefore = PeerCheckingSslEngineProvider.refusedHandshakes();

    // S1: the right name, but a certificate of another CA.
    TroupeNode foreignCa = start("n9", production(otherCa, "n9"), seeds());
    // S3: the cluster's CA, an unrelated name; this intruder itself admits any peer name.
    TroupeNode stranger =
        start(
            "stranger",
            production(certs, "stranger") + "troupe.security.tls.peer-name-pattern = \".*\"\n",
            seeds());
    // S2: plaintext.
    TroupeNode plaintext = start("plaintext", "", seeds());
    // S9: the cluster's CA and a valid name, but TLS 1.2 only (development profile, TLS by hand).
    TroupeNode legacy =
        start(
            "legacy",
            "pekko.remote.artery.transport = tls-tcp\n"
                + "pekko.remote.artery.ssl.config-ssl-engine {\n"
                + "  key-store = \""
                + certs.resolve("legacy.p12")
                + "\"\n  trust-store = \""
                + certs.resolve("truststore.p12")
                + "\"\n  key-store-password = \""
                + Certificates.PASSWORD
                + "\", key-password = \""
                + Certificates.PASSWORD
                + "\", trust-store-password = \""
                + Certificates.PASSWORD
                + "\"\n"
                + "  protocol = TLSv1.2\n"
                + "  enabled-algorithms = [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n}\n",
            seeds());
    // S5: the cluster's CA and a valid name, but the certificate has expired.
    TroupeNode expired = start("expired", production(certs, "expired"), seeds());
    // S5: the cluster's CA and a valid name, but the certificate is not valid yet.
    assertTrue(
        notBefore("early").isAfter(Instant.now().plus(Duration.ofDays(1))),
        "the test's premise: a certificate valid from the day after tomorrow");
    TroupeNode early = start("early", production(certs, "early"), seeds());
    List<TroupeNode> intruders = List.of(foreignCa, stranger, plaintext, legacy, expired, early);

    // A node with the cluster's certificates that starts after the intruders still joins.
    TroupeNode n3 = start("n3", production(certs, "n3"), seeds());
    n3.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    long deadline = System.nanoTime() + INTRUDER_WINDOW.toNanos();
    for (TroupeNode intruder : intruders) {
      long left = Math.max(1, deadline - System.nanoTime());
      assertThrows(
          TimeoutException.class,
          () -> intruder.whenUp().toCompletableFuture().get(left, TimeUnit.NANOSECONDS),
          intruder.name() + " became Up");
    }
    Set<Address> members = Set.of(seed.address(), n2.address(), n3.address());
    Eventually.awaitAssert(
        TIMEOUT, "the three certified nodes", () -> assertEquals(members, seed.members()));
    for (TroupeNode intruder : intruders) {
      assertFalse(
          everMember.contains(intruder.address()),
          intruder.name() + " was seen as a member: " + everMember);
    }
    assertTrue(everMember.containsAll(members), everMember.toString());
    // The same-CA stranger got through the CA check and was refused by the name check.
    assertTrue(PeerCheckingSslEngineProvider.refusedHandshakes() > refusedBefore);
  }
}
