package dev.troupe.core.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.internal.ReloadingSslContext;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * FAULTS.md S5, rotation: a running production node picks up a replaced trust store or key store
 * file for its new connections, without a restart ({@code troupe.security.tls.reload-interval}, 1 s
 * here). Checked through membership: a node that needs the new files to be in use joins only after
 * the files were replaced.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class CertificateRotationIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(45);

  /** How long a node that must not get in is given: longer than a first join takes here. */
  private static final Duration REFUSED_WINDOW = Duration.ofSeconds(8);

  private static final String RELOAD = "troupe.security.tls.reload-interval = 1s\n";

  @TempDir static Path ca1;
  @TempDir static Path ca2;
  @TempDir static Path ca3;
  @TempDir static Path bothCas;
  @TempDir static Path ca1And3;
  @TempDir Path live;
  @TempDir Path db;

  private final List<TroupeNode> started = new ArrayList<>();

  @BeforeAll
  static void makeCertificates() throws Exception {
    Certificates.make(ca1, "chat.troupe.test", "n1", "n2", "n3");
    Certificates.make(ca2, "chat.troupe.test", "n5"); // the same names, a second CA
    Certificates.make(ca3, "chat.troupe.test", "n1"); // n1's next certificate, from a third CA
    combine(bothCas, ca2);
    combine(ca1And3, ca3);
  }

  /** Writes {@code into}/truststore.p12 trusting CA1 and the CA of {@code other}. */
  private static void combine(Path into, Path other) throws Exception {
    KeyStore both = load(ca1.resolve("truststore.p12"));
    both.setCertificateEntry("other", load(other.resolve("truststore.p12")).getCertificate("ca"));
    try (OutputStream out = Files.newOutputStream(into.resolve("truststore.p12"))) {
      both.store(out, Certificates.PASSWORD.toCharArray());
    }
  }

  @AfterEach
  void stopAll() {
    for (TroupeNode node : started) {
      node.system().terminate();
    }
    for (TroupeNode node : started) {
      node.system().getWhenTerminated().toCompletableFuture().join();
    }
    started.clear();
  }

  @Test
  void aSeedAdmitsASecondCaOnceItsTrustStoreFileIsReplacedAndSurvivesAHalfWrittenOne()
      throws Exception {
    Path seedTrust = live.resolve("truststore.p12");
    Files.copy(ca1.resolve("truststore.p12"), seedTrust);
    TroupeNode seed = start("n1", ca1.resolve("n1.p12"), seedTrust, List.of());
    seed.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    List<String> seeds = List.of(seed.address().toString());

    // A node of the second CA (which itself trusts both CAs) is refused while the seed trusts CA1.
    TroupeNode second =
        start("n5", ca2.resolve("n5.p12"), bothCas.resolve("truststore.p12"), seeds);
    assertNotUpWithin(second, REFUSED_WINDOW);

    // The new trust store, caught half-written: the seed keeps the trust it has and still admits
    // a node of the first CA.
    long kept = ReloadingSslContext.keptPreviousInThisJvm();
    byte[] newTrust = Files.readAllBytes(bothCas.resolve("truststore.p12"));
    Files.write(seedTrust, Arrays.copyOf(newTrust, newTrust.length / 2));
    Eventually.awaitCondition(
        TIMEOUT,
        "the seed to find its half-written trust store unusable",
        () -> ReloadingSslContext.keptPreviousInThisJvm() > kept);
    TroupeNode first = start("n2", ca1.resolve("n2.p12"), bothCas.resolve("truststore.p12"), seeds);
    first.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertFalse(seed.members().contains(second.address()), "admitted by a half-written file");

    // The complete file, replaced atomically: the waiting node gets in, the seed never restarted.
    long replacedAt = System.nanoTime();
    replaceAtomically(seedTrust, newTrust);
    second.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    System.out.printf(
        "S5 trust rotation: second-CA node Up %d ms after the trust store was replaced%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - replacedAt));
    Set<Address> members = Set.of(seed.address(), first.address(), second.address());
    Eventually.awaitAssert(
        TIMEOUT, "all three nodes as members", () -> assertEquals(members, seed.members()));
  }

  @Test
  void aNodeThatJoinsAfterAKeyStoreRotationIsShownTheNewCertificate() throws Exception {
    Path seedKey = live.resolve("n1.p12");
    Files.copy(ca1.resolve("n1.p12"), seedKey, StandardCopyOption.COPY_ATTRIBUTES); // mode 600
    // The seed trusts CA1 and CA3 (the new CA is trusted before any key uses it).
    TroupeNode seed = start("n1", seedKey, ca1And3.resolve("truststore.p12"), List.of());
    seed.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    // This node trusts only the third CA: it refuses the seed's first certificate, so it can
    // join only through handshakes in which the seed presents its rotated one (as server when
    // the joiner connects, as client when the seed connects back).
    TroupeNode joiner =
        start(
            "n3",
            ca1.resolve("n3.p12"),
            ca3.resolve("truststore.p12"),
            List.of(seed.address().toString()));
    assertNotUpWithin(joiner, REFUSED_WINDOW);

    long reloads = ReloadingSslContext.reloadsInThisJvm();
    long replacedAt = System.nanoTime();
    replaceAtomically(seedKey, Files.readAllBytes(ca3.resolve("n1.p12")));
    joiner.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    System.out.printf(
        "S5 key rotation: joiner Up %d ms after the key store was replaced%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - replacedAt));
    assertTrue(ReloadingSslContext.reloadsInThisJvm() > reloads, "no context was rebuilt");
    Eventually.awaitAssert(
        TIMEOUT,
        "the seed and the joiner as members",
        () -> assertEquals(Set.of(seed.address(), joiner.address()), seed.members()));
  }

  private TroupeNode start(String name, Path keyStore, Path trustStore, List<String> seeds) {
    String config =
        "troupe.profile = production\n"
            + "troupe.security.tls.key-store = \""
            + keyStore
            + "\"\ntroupe.security.tls.trust-store = \""
            + trustStore
            + "\"\ntroupe.security.tls { key-store-password = \""
            + Certificates.PASSWORD
            + "\", trust-store-password = \""
            + Certificates.PASSWORD
            + "\" }\n"
            + RELOAD
            + "troupe.storage.url = \"jdbc:h2:file:"
            + db.resolve("troupe")
            + ";AUTO_SERVER=TRUE\"\n"
            + TestCluster.TEST_CONFIG;
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder().name(name).port(0).seedNodes(seeds).config(config).build());
    started.add(node);
    return node;
  }

  private static void assertNotUpWithin(TroupeNode node, Duration window) {
    assertThrows(
        TimeoutException.class,
        () -> node.whenUp().toCompletableFuture().get(window.toMillis(), TimeUnit.MILLISECONDS),
        node.name() + " became Up");
  }

  /** Writes {@code content} next to {@code file} and renames it over {@code file}. */
  private static void replaceAtomically(Path file, byte[] content) throws Exception {
    Path next = file.resolveSibling(file.getFileName() + ".next");
    Files.write(next, content);
    // Key stores hold private keys: owner only, as production requires (and troupe-certs makes).
    Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-------"));
    Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static KeyStore load(Path file) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, Certificates.PASSWORD.toCharArray());
    }
    return store;
  }
}
