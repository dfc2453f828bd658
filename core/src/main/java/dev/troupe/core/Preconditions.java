package dev.troupe.core;

import java.time.Duration;

/**
 * Argument and state checks whose messages name the bad value, as every Troupe module words them.
 *
 * <p>Troupe's sharding, daemons and cron modules use these checks, and so may code built on Troupe
 * that wants its errors worded the same way:
 *
 * <pre>{@code
 * String url = Preconditions.requireNonBlank(jdbcUrl, "jdbcUrl");
 * Duration every = Preconditions.requirePositive(interval, "reconcile interval");
 * }</pre>
 *
 * <p>Names (of groups, address-book entries, daemons, launchers, cron jobs) have a rule of their
 * own: {@link Names#require}.
 */
public final class Preconditions {
  private Preconditions() {}

  /** Throws {@link IllegalArgumentException} with {@code message} unless {@code condition}. */
  public static void requireArgument(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Throws {@link IllegalStateException} with {@code message} unless {@code condition}. */
  public static void requireState(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }

  /** Returns {@code value}, or throws {@link IllegalArgumentException} naming {@code what}. */
  public static <T> T requireNonNull(T value, String what) {
    if (value == null) {
      throw new IllegalArgumentException(what + " must not be null");
    }
    return value;
  }

  /** Returns {@code value} if it is neither null nor blank; otherwise names {@code what}. */
  public static String requireNonBlank(String value, String what) {
    if (value == null) {
      throw new IllegalArgumentException(what + " must not be null");
    }
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty, got: [" + value + "]");
    }
    return value;
  }

  /**
   * Returns {@code value} if it is at most {@code maxBytes} long in UTF-8; otherwise names {@code
   * what}, the limit, the length and (for a long value, the start of) the value.
   */
  public static String requireMaxUtf8Bytes(String value, int maxBytes, String what) {
    // a char is at most 3 UTF-8 bytes (a surrogate pair, 2 chars, is 4): skip the count if short
    if (value.length() * 3L > maxBytes) {
      int bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      if (bytes > maxBytes) {
        String shown = value.length() <= 64 ? value : value.substring(0, 64) + "...";
        throw new IllegalArgumentException(
            what
                + " must be at most "
                + maxBytes
                + " bytes in UTF-8, got "
                + bytes
                + " bytes ("
                + value.length()
                + " chars): ["
                + shown
                + "]");
      }
    }
    return value;
  }

  /** Returns {@code value} if it is strictly positive; otherwise names {@code what}. */
  public static Duration requirePositive(Duration value, String what) {
    requireNonNull(value, what);
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(what + " must be > 0, got: " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is zero or positive; otherwise names {@code what}. */
  public static Duration requireNonNegative(Duration value, String what) {
    requireNonNull(value, what);
    if (value.isNegative()) {
      throw new IllegalArgumentException(what + " must be >= 0, got: " + value);
    }
    return value;
  }

  /** Returns {@code value} if it lies in {@code [min, max]}; otherwise names {@code what}. */
  public static int requireRange(int value, int min, int max, String what) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          what + " must be in " + min + ".." + max + ", got: " + value);
    }
    return value;
  }
}
