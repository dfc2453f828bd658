package dev.troupe.core.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code scripts/troupe-certs}, the script users run, to make the tests' certificates. */
final class Certificates {
  /**
   * The tests' store password: not Troupe's placeholder {@code changeit}, which the production
   * profile refuses.
   */
  static final String PASSWORD = "troupe-test-store-secret";

  private Certificates() {}

  static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("scripts/troupe-certs");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "scripts/troupe-certs not found above " + Path.of("").toAbsolutePath());
  }

  /** Makes (or reuses) the CA in {@code dir} and a certificate per node; returns the output. */
  static String make(Path dir, String domain, String... nodes) {
    return make(Map.of(), dir, domain, nodes);
  }

  /** Like {@link #make(Path, String, String...)} with extra environment (TROUPE_CERT_*). */
  static String make(Map<String, String> env, Path dir, String domain, String... nodes) {
    List<String> command = new ArrayList<>(List.of(script().toString(), dir.toString(), domain));
    command.addAll(List.of(nodes));
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().put("TROUPE_CERT_PASSWORD", PASSWORD);
      builder.environment().putAll(env);
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("troupe-certs failed: " + output);
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run troupe-certs", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** HOCON for a production node with {@code dir}'s trust store and {@code node}'s key store. */
  static String production(Path dir, String node) {
    return "troupe.profile = production\n"
        + "troupe.security.tls { key-store-password = \""
        + PASSWORD
        + "\", trust-store-password = \""
        + PASSWORD
        + "\" }\n"
        + "troupe.security.tls.key-store = \""
        + dir.resolve(node + ".p12")
        + "\"\n"
        + "troupe.security.tls.trust-store = \""
        + dir.resolve("truststore.p12")
        + "\"\n";
  }
}
