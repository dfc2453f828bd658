package dev.troupe.core.lock.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** INTERNAL API. The 64-bit PostgreSQL advisory-lock key of a qualified lock name. */
public final class LockKeys {
  private LockKeys() {}

  /**
   * The first 8 bytes (big-endian) of the SHA-256 of {@code "troupe-lock:" + qualifiedName} in
   * UTF-8: computed in Java, the same in every version of PostgreSQL (unlike {@code hashtext}).
   */
  public static long keyOf(String qualifiedName) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(("troupe-lock:" + qualifiedName).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest, 0, 8).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
