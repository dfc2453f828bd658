package dev.troupe.core.internal;

import dev.troupe.core.Preconditions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The {@link SSLContext} of the production TLS engine, rebuilt from the key store and
 * trust store files when either changes on disk ({@code troupe.security.tls.reload-interval}).
 */
public final class ReloadingSslContext {
  /*
   * Reloading: every TLS engine (server or client side, one per new connection) is made from
   * current(). At most once per interval, the caller that wins the compare-and-set on lastCheck
   * reads both files and compares their SHA-256 digests with those of the files the current
   * context was built from. Only when one differs does it parse them and build a new context;
   * engines made from then on use it, engines (connections) made before keep the old one. The
   * check runs on the thread that makes the engine: two small file reads per interval, a parse
   * only after a change. No timer: a node without new connections does not look at its files.
   *
   * Failures keep the previous context: a file that cannot be read or parsed (missing during a
   * non-atomic replace, caught mid-write: PKCS12 carries a MAC, so a truncated store does not
   * parse), a wrong password, a key store without a private key, a trust store without a
   * certificate, a certificate that is not valid now, one the node's own (new) trust store does
   * not trust, or one the owner's check refuses (the peer name check). The own-trust rule assumes
   * what troupe-certs sets up, one trust store for every node: a certificate the node itself would
   * refuse, its peers would refuse too. It enforces the rotation order (trust the new CA
   * everywhere, then swap keys) and skips a store that a tool writing in place has filled only
   * with a fresh self-signed key pair. Each distinct failure is logged at WARN once; the files are read again at every
   * later check, so a write completed after a half-written read, or a certificate whose start date
   * has come, is picked up without another change.
   *
   * Only the initial load fails hard (IllegalArgumentException): there is no previous context. It
   * does not check the certificate's validity dates, so a node with an expired certificate starts
   * (and its peers refuse it), as with Pekko's own engine; it logs a warning.
   *
   * Time: the interval and the validity checks use the injected Clock. A clock that steps back
   * triggers a check rather than postponing them.
   */
  private static final Logger log = LoggerFactory.getLogger(ReloadingSslContext.class);
  private static final AtomicLong reloads = new AtomicLong();
  private static final AtomicLong keptPrevious = new AtomicLong();

  /**
   * The files and passwords a context is built from.
   *
   * @param keyStore the node's PKCS12 key store: its private key and certificate
   * @param keyStorePassword the key store's password
   * @param keyPassword the private key's password
   * @param trustStore the trust store: the certificates of the trusted CAs
   * @param trustStorePassword the trust store's password
   */
  public record Stores(
      Path keyStore,
      String keyStorePassword,
      String keyPassword,
      Path trustStore,
      String trustStorePassword) {}

  private record Loaded(
      SSLContext context,
      X509Certificate[] chain,
      KeyStore trust,
      byte[] keyDigest,
      byte[] trustDigest) {
    X509Certificate certificate() {
      return chain[0];
    }
  }

  private final Stores stores;
  private final String protocol;
  private final SecureRandom random;
  private final long intervalMillis;
  private final Function<X509Certificate, Optional<String>> certificateCheck;
  private final Clock clock;
  private final AtomicLong lastCheck;
  private volatile Loaded loaded;
  private String lastFailure = ""; // guarded by this

  /**
   * Loads the stores and builds the first context.
   *
   * @param protocol the TLS protocol of the context, e.g. {@code TLSv1.3}
   * @param certificateCheck why a rotated certificate of this node must not be used, or empty
   * @throws IllegalArgumentException naming the file when the stores cannot be loaded
   */
  public ReloadingSslContext(
      Stores stores,
      String protocol,
      SecureRandom random,
      Duration interval,
      Function<X509Certificate, Optional<String>> certificateCheck,
      Clock clock) {
    this.stores = stores;
    this.protocol = protocol;
    this.random = random;
    this.intervalMillis =
        Preconditions.requirePositive(interval, TlsSettings.RELOAD_INTERVAL).toMillis();
    this.certificateCheck = certificateCheck;
    this.clock = clock;
    try {
      this.loaded = build(read(stores.keyStore()), read(stores.trustStore()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "The TLS key store ["
              + stores.keyStore()
              + "] or trust store ["
              + stores.trustStore()
              + "] (troupe.security.tls) cannot be used: "
              + e,
          e);
    }
    this.lastCheck = new AtomicLong(clock.millis());
    X509Certificate own = loaded.certificate();
    try {
      own.checkValidity(Date.from(clock.instant()));
    } catch (CertificateException e) {
      log.warn(
          "This node's TLS certificate [{}] is not valid now ({}): peers will refuse it",
          own.getSubjectX500Principal().getName(),
          e.getMessage());
    }
  }

  /** How many times contexts in this JVM were rebuilt after a file changed. */
  public static long reloadsInThisJvm() {
    return reloads.get();
  }

  /**
   * How many checks in this JVM found changed files they could not use and kept the old context.
   */
  public static long keptPreviousInThisJvm() {
    return keptPrevious.get();
  }

  /** The context new engines are made from; first re-reads the files if the interval has passed. */
  public SSLContext current() {
    long now = clock.millis();
    long last = lastCheck.get();
    if ((now - last >= intervalMillis || now < last) && lastCheck.compareAndSet(last, now)) {
      reloadIfChanged();
    }
    return loaded.context();
  }

  /** This node's certificate in the current context. */
  public X509Certificate certificate() {
    return loaded.certificate();
  }

  private synchronized void reloadIfChanged() {
    byte[] keyBytes;
    byte[] trustBytes;
    try {
      keyBytes = read(stores.keyStore());
      trustBytes = read(stores.trustStore());
    } catch (IOException e) {
      keepPrevious("", e.toString());
      return;
    }
    byte[] keyDigest = digest(keyBytes);
    byte[] trustDigest = digest(trustBytes);
    Loaded previous = loaded;
    if (MessageDigest.isEqual(keyDigest, previous.keyDigest())
        && MessageDigest.isEqual(trustDigest, previous.trustDigest())) {
      lastFailure = "";
      return;
    }
    Loaded next;
    try {
      next = build(keyBytes, trustBytes);
      X509Certificate own = next.certificate();
      own.checkValidity(Date.from(clock.instant()));
      try {
        validate(next.chain(), next.trust());
      } catch (CertPathValidatorException e) {
        throw new CertificateException(
            "this node's new certificate ["
                + own.getSubjectX500Principal().getName()
                + "] is not trusted by its own trust store (add its CA to every node's trust"
                + " store first): "
                + e.getMessage(),
            e);
      }
      Optional<String> refusal = certificateCheck.apply(own);
      if (refusal.isPresent()) {
        throw new CertificateException(refusal.get());
      }
    } catch (IOException | GeneralSecurityException e) {
      keepPrevious(hex(keyDigest) + hex(trustDigest), e.toString());
      return;
    }
    loaded = next;
    lastFailure = "";
    reloads.incrementAndGet();
    log.info(
        "Reloaded the TLS key store [{}] and trust store [{}]: new connections use the"
            + " certificate [{}] (serial {}, valid until {})",
        stores.keyStore(),
        stores.trustStore(),
        next.certificate().getSubjectX500Principal().getName(),
        next.certificate().getSerialNumber().toString(16),
        next.certificate().getNotAfter().toInstant());
  }

  private void keepPrevious(String content, String reason) {
    keptPrevious.incrementAndGet();
    String failure = content + reason;
    if (!failure.equals(lastFailure)) {
      lastFailure = failure;
      log.warn(
          "Cannot use the changed TLS key store [{}] or trust store [{}], keeping the previous"
              + " ones (checked again every {} ms): {}",
          stores.keyStore(),
          stores.trustStore(),
          intervalMillis,
          reason);
    }
  }

  private Loaded build(byte[] keyBytes, byte[] trustBytes)
      throws IOException, GeneralSecurityException {
    KeyStore keys = load(keyBytes, stores.keyStorePassword());
    X509Certificate[] chain = keyChain(keys);
    if (chain == null) {
      throw new CertificateException(
          "the key store ["
              + stores.keyStore()
              + "] holds no private key with an X.509 certificate");
    }
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, stores.keyPassword().toCharArray());
    KeyStore trust = load(trustBytes, stores.trustStorePassword());
    boolean anyCertificate = false;
    for (String alias : Collections.list(trust.aliases())) {
      anyCertificate |= trust.isCertificateEntry(alias);
    }
    if (!anyCertificate) {
      throw new CertificateException(
          "the trust store [" + stores.trustStore() + "] holds no trusted certificate");
    }
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext context = SSLContext.getInstance(protocol);
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), random);
    return new Loaded(context, chain, trust, digest(keyBytes), digest(trustBytes));
  }

  /**
   * PKIX validation of {@code chain} against the certificates of {@code trust}, at the clock's now.
   */
  private void validate(X509Certificate[] chain, KeyStore trust) throws GeneralSecurityException {
    List<X509Certificate> path = new ArrayList<>();
    for (X509Certificate certificate : chain) {
      if (trust.getCertificateAlias(certificate) != null) {
        break; // the anchor ends the path
      }
      path.add(certificate);
    }
    PKIXParameters parameters = new PKIXParameters(trust);
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(clock.instant()));
    CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
  }

  /** The certificate chain of the first private key entry of {@code keys}, or {@code null}. */
  private static X509Certificate[] keyChain(KeyStore keys) throws KeyStoreException {
    for (String alias : Collections.list(keys.aliases())) {
      Certificate[] chain = keys.isKeyEntry(alias) ? keys.getCertificateChain(alias) : null;
      if (chain != null && chain.length > 0 && chain[0] instanceof X509Certificate) {
        return Arrays.copyOf(chain, chain.length, X509Certificate[].class);
      }
    }
    return null;
  }

  private static byte[] read(Path file) throws IOException {
    return Files.readAllBytes(file);
  }

  private static KeyStore load(byte[] bytes, String password)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(new ByteArrayInputStream(bytes), password.toCharArray());
    return store;
  }

  private static byte[] digest(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
