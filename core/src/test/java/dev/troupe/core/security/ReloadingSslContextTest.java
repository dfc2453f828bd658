package dev.troupe.core.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.internal.PeerNames;
import dev.troupe.core.internal.ReloadingSslContext;
import dev.troupe.testkit.ManualClock;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FAULTS.md S5, without a cluster: when the production engine's context picks up changed key store
 * and trust store files, and when it keeps the previous one. Time is a {@link ManualClock}.
 */
final class ReloadingSslContextTest {
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final Pattern PEERS = Pattern.compile("[^.]+\\.chat\\.troupe\\.test");

  @TempDir static Path certs;
  @TempDir static Path otherCa;
  @TempDir Path live;

  private final ManualClock clock = new ManualClock(Instant.now());
  private Path keyStore;
  private Path trustStore;
  private ReloadingSslContext contexts;

  @BeforeAll
  static void makeCertificates() {
    Certificates.make(certs, "chat.troupe.test", "n1", "n2");
    Certificates.make(certs, "unrelated.example", "stranger");
    Certificates.make(Map.of("TROUPE_CERT_START", "+2d"), certs, "chat.troupe.test", "early");
    Certificates.make(otherCa, "chat.troupe.test", "n2"); // a second CA
  }

  @BeforeEach
  void startWithN1() throws Exception {
    keyStore = live.resolve("node.p12");
    trustStore = live.resolve("truststore.p12");
    Files.copy(certs.resolve("n1.p12"), keyStore);
    Files.copy(certs.resolve("truststore.p12"), trustStore);
    contexts = create();
  }

  private ReloadingSslContext create() {
    return new ReloadingSslContext(
        new ReloadingSslContext.Stores(
            keyStore,
            Certificates.PASSWORD,
            Certificates.PASSWORD,
            trustStore,
            Certificates.PASSWORD),
        "TLSv1.3",
        new SecureRandom(),
        INTERVAL,
        own -> PeerNames.admits(PEERS, own) ? Optional.empty() : Optional.of("not a peer name"),
        clock);
  }

  private void replace(Path file, String withCertificatesOf) throws Exception {
    Path next = live.resolve("next.tmp");
    Files.copy(certs.resolve(withCertificatesOf + ".p12"), next);
    Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private String ownName() {
    return PeerNames.names(contexts.certificate()).get(0);
  }

  @Test
  void aReplacedKeyStoreIsUsedOnceTheReloadIntervalHasPassed() throws Exception {
    SSLContext first = contexts.current();
    assertEquals("n1.chat.troupe.test", ownName());
    long reloads = ReloadingSslContext.reloadsInThisJvm();

    replace(keyStore, "n2");
    clock.advance(INTERVAL.minusSeconds(1));
    assertSame(first, contexts.current(), "checked before the interval passed");

    clock.advance(Duration.ofSeconds(1));
    SSLContext second = contexts.current();
    assertNotSame(first, second);
    assertEquals("n2.chat.troupe.test", ownName());
    assertEquals(reloads + 1, ReloadingSslContext.reloadsInThisJvm());

    clock.advance(INTERVAL);
    assertSame(second, contexts.current(), "rebuilt although no file changed");
  }

  @Test
  void aKeyStoreCaughtMidWriteKeepsThePreviousContextUntilTheWriteCompletes() throws Exception {
    SSLContext first = contexts.current();
    byte[] complete = Files.readAllBytes(certs.resolve("n2.p12"));
    Files.write(keyStore, Arrays.copyOf(complete, complete.length / 2)); // in place, half done
    long kept = ReloadingSslContext.keptPreviousInThisJvm();

    clock.advance(INTERVAL);
    assertSame(first, contexts.current());
    assertEquals("n1.chat.troupe.test", ownName());
    assertEquals(kept + 1, ReloadingSslContext.keptPreviousInThisJvm());

    Files.write(keyStore, complete);
    clock.advance(INTERVAL);
    assertNotSame(first, contexts.current());
    assertEquals("n2.chat.troupe.test", ownName());
  }

  @Test
  void aMissingTrustStoreKeepsThePreviousContextAndItsReturnRebuildsNothing() throws Exception {
    SSLContext first = contexts.current();
    byte[] trust = Files.readAllBytes(trustStore);
    Files.delete(trustStore);
    long kept = ReloadingSslContext.keptPreviousInThisJvm();

    clock.advance(INTERVAL);
    assertSame(first, contexts.current());
    assertTrue(ReloadingSslContext.keptPreviousInThisJvm() > kept);

    Files.write(trustStore, trust);
    clock.advance(INTERVAL);
    assertSame(first, contexts.current(), "the same files were back");
  }

  @Test
  void aRotatedCertificateThePeerCheckWouldRefuseIsNotUsed() throws Exception {
    SSLContext first = contexts.current();
    replace(keyStore, "stranger");
    clock.advance(INTERVAL);
    assertSame(first, contexts.current());
    assertEquals("n1.chat.troupe.test", ownName());
  }

  @Test
  void aRotatedCertificateIsUsedOnlyOnceItsStartDateHasCome() throws Exception {
    SSLContext first = contexts.current();
    assertTrue(
        certificateOf("early").getNotBefore().toInstant().isAfter(clock.instant().plusSeconds(60)),
        "the test's premise: a certificate valid from the day after tomorrow");
    replace(keyStore, "early");

    clock.advance(INTERVAL);
    assertSame(first, contexts.current(), "a certificate that is not yet valid was used");
    assertEquals("n1.chat.troupe.test", ownName());

    clock.set(certificateOf("early").getNotBefore().toInstant().plusSeconds(1));
    assertNotSame(first, contexts.current(), "tried again, without another change");
    assertEquals("early.chat.troupe.test", ownName());
  }

  @Test
  void aCertificateOfANewCaIsUsedOnlyOnceTheTrustStoreHoldsThatCa() throws Exception {
    SSLContext first = contexts.current();
    Path next = live.resolve("next.tmp");
    Files.copy(otherCa.resolve("n2.p12"), next);
    Files.move(next, keyStore, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    clock.advance(INTERVAL);
    assertSame(first, contexts.current(), "a certificate its own trust store refuses was used");
    assertEquals("n1.chat.troupe.test", ownName());

    KeyStore both = load(trustStore);
    both.setCertificateEntry("ca2", load(otherCa.resolve("truststore.p12")).getCertificate("ca"));
    try (OutputStream out = Files.newOutputStream(next)) {
      both.store(out, Certificates.PASSWORD.toCharArray());
    }
    Files.move(
        next, trustStore, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    clock.advance(INTERVAL);
    assertNotSame(first, contexts.current());
    assertEquals("n2.chat.troupe.test", ownName());
    assertEquals(
        load(otherCa.resolve("n2.p12")).getCertificate("node"), contexts.certificate(), "CA2's n2");
  }

  @Test
  void storesThatCannotBeReadAtStartAreRefusedNamingTheFile() throws Exception {
    Files.write(trustStore, new byte[] {1, 2, 3});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, this::create);
    assertTrue(e.getMessage().contains(trustStore.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("troupe.security.tls"), e.getMessage());
  }

  @Test
  void aNonPositiveIntervalIsRefusedNamingTheSetting() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new ReloadingSslContext(
                    new ReloadingSslContext.Stores(
                        keyStore,
                        Certificates.PASSWORD,
                        Certificates.PASSWORD,
                        trustStore,
                        Certificates.PASSWORD),
                    "TLSv1.3",
                    new SecureRandom(),
                    Duration.ZERO,
                    own -> Optional.empty(),
                    clock));
    assertTrue(e.getMessage().contains("troupe.security.tls.reload-interval"), e.getMessage());
  }

  private static X509Certificate certificateOf(String node) throws Exception {
    return (X509Certificate) load(certs.resolve(node + ".p12")).getCertificate("node");
  }

  private static KeyStore load(Path file) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, Certificates.PASSWORD.toCharArray());
    }
    return store;
  }
}
