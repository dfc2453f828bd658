package dev.troupe.core.internal;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * INTERNAL API. The certificate names a TLS peer must carry: {@code
 * troupe.security.tls.peer-name-pattern}, or a pattern derived from this node's own certificate.
 */
public final class PeerNames {
  static final String PATTERN_SETTING = "troupe.security.tls.peer-name-pattern";
  private static final int DNS_NAME = 2;

  private PeerNames() {}

  /**
   * The pattern a peer certificate's DNS names are matched against.
   *
   * @throws IllegalArgumentException naming the setting when the pattern is not a valid regular
   *     expression, the key store cannot be read, or no pattern can be derived from it
   */
  public static Pattern pattern(Config config) {
    String configured = config.getString(PATTERN_SETTING);
    if (!configured.isEmpty()) {
      try {
        return Pattern.compile(configured);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            PATTERN_SETTING + " is not a valid regular expression: [" + configured + "]", e);
      }
    }
    X509Certificate own = ownCertificate(config);
    for (String name : names(own)) {
      int dot = name.indexOf('.');
      if (dot > 0 && dot < name.length() - 1 && !name.startsWith("*")) {
        return Pattern.compile("[^.]+" + Pattern.quote(name.substring(dot)));
      }
    }
    throw new IllegalArgumentException(
        "This node's certificate ["
            + own.getSubjectX500Principal().getName()
            + "] has no DNS name of the form <node>.<cluster domain> to derive the names of its"
            + " peers from: set "
            + PATTERN_SETTING
            + ", or issue node certificates with such a name (scripts/troupe-certs does)");
  }

  /** The DNS subject alternative names of {@code certificate}, then its subject CN; no repeats. */
  public static List<String> names(X509Certificate certificate) {
    Set<String> names = new LinkedHashSet<>();
    try {
      Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
      for (List<?> entry : alternatives == null ? Collections.<List<?>>emptyList() : alternatives) {
        if (entry.size() >= 2 && Integer.valueOf(DNS_NAME).equals(entry.get(0))) {
          names.add(String.valueOf(entry.get(1)));
        }
      }
    } catch (CertificateParsingException e) {
      // no usable alternative names: fall back to the CN
    }
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          names.add(String.valueOf(rdn.getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // an unparsable subject has no CN
    }
    return new ArrayList<>(names);
  }

  /** Whether any of {@code certificate}'s names matches {@code pattern} in full. */
  public static boolean admits(Pattern pattern, X509Certificate certificate) {
    for (String name : names(certificate)) {
      if (pattern.matcher(name).matches()) {
        return true;
      }
    }
    return false;
  }

  /** The certificate of the first private key entry of {@code store}, or {@code null}. */
  static X509Certificate keyCertificate(KeyStore store) throws KeyStoreException {
    for (String alias : Collections.list(store.aliases())) {
      if (store.isKeyEntry(alias)) {
        Certificate certificate = store.getCertificate(alias);
        if (certificate instanceof X509Certificate x509) {
          return x509;
        }
      }
    }
    return null;
  }

  private static X509Certificate ownCertificate(Config config) {
    String file = config.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store");
    String password =
        config.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store-password");
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(in, password.toCharArray());
      X509Certificate own = keyCertificate(store);
      if (own != null) {
        return own;
      }
      throw new IllegalArgumentException(
          "The key store ["
              + file
              + "] (troupe.security.tls.key-store) holds no private key with an X.509 certificate");
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          "The key store ["
              + file
              + "] (troupe.security.tls.key-store) does not exist; scripts/troupe-certs makes one",
          e);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "The key store ["
              + file
              + "] (troupe.security.tls.key-store) cannot be read: "
              + e.getMessage(),
          e);
    }
  }
}
