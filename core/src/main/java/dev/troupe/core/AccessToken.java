package dev.troupe.core;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The operator token, {@code troupe.security.access-token}: what Pekko Management's endpoints other
 * than the health checks (and an application's own operator pages, such as the chat sample's
 * dashboard) require once it is set. The production profile requires it to be set.
 *
 * <p>A presented token is compared in constant time: both sides are hashed with SHA-256 and the
 * digests compared with {@link MessageDigest#isEqual}, so neither the position of the first
 * difference nor the token's length shows in the time an answer takes.
 *
 * <pre>{@code
 * AccessToken token = AccessToken.fromConfig(system.settings().config());
 * if (token.isSet() && !token.acceptsAuthorization(request.getHeader("Authorization"))) { ... 401 }
 * }</pre>
 */
public final class AccessToken {
  /** The setting that holds the token; empty = none. */
  public static final String SETTING = "troupe.security.access-token";

  /** The shortest token the production profile accepts. */
  public static final int MIN_LENGTH = 16;

  private final byte[] digest; // null = no token

  private AccessToken(String token) {
    this.digest = token.isEmpty() ? null : sha256(token);
  }

  /** The token {@value #SETTING} of {@code config} (none if the setting is empty or absent). */
  public static AccessToken fromConfig(Config config) {
    return of(config.hasPath(SETTING) ? config.getString(SETTING) : "");
  }

  /** A token; the empty string is no token. */
  public static AccessToken of(String token) {
    return new AccessToken(Preconditions.requireNonNull(token, "access token"));
  }

  /** Whether a token is set (and so required). */
  public boolean isSet() {
    return digest != null;
  }

  /** Whether {@code presented} is the token, compared in constant time; false if none is set. */
  public boolean accepts(String presented) {
    return digest != null && presented != null && MessageDigest.isEqual(digest, sha256(presented));
  }

  /** Whether an {@code Authorization} header value is {@code Bearer <the token>}. */
  public boolean acceptsAuthorization(Optional<String> header) {
    return header
        .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(h -> accepts(h.substring(7).trim()))
        .orElse(false);
  }

  @Override
  public String toString() {
    return isSet() ? "AccessToken[set]" : "AccessToken[none]";
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }
}
