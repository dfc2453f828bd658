package dev.troupe.core.storage.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * INTERNAL API. Keeps passwords out of messages: removes them from JDBC URLs and from exception
 * messages that quote URLs or credentials.
 */
public final class JdbcUrls {
  /**
   * {@code ?password=x}, {@code &sslpassword=x}, {@code ;PASSWORD=x}: any key ending in password.
   */
  private static final Pattern SECRET_PARAMETER =
      Pattern.compile("(?i)([?&;])([a-z0-9_.\\-]*password)=([^&;]*)");

  /** {@code //user:password@host}: RFC 3986 user-info cannot hold unencoded / ? # @. */
  private static final Pattern USER_INFO = Pattern.compile("//([^/?#@:]*):([^/?#@]*)@");

  private static final String WITHHELD = "(message withheld: it contains a password)";

  private JdbcUrls() {}

  /** {@code url} without password parameters and without the password of its user-info. */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    String withoutUserInfo =
        USER_INFO
            .matcher(url)
            .replaceAll(m -> m.group(1).isEmpty() ? "//" : "//" + quote(m.group(1)) + "@");
    String withoutParameters =
        SECRET_PARAMETER
            .matcher(withoutUserInfo)
            .replaceAll(m -> m.group(1).equals("?") ? "?" : "");
    return withoutParameters.replace("?&", "?").replace("?;", "?").replaceAll("\\?$", "");
  }

  /** The passwords {@code url} carries, in parameters or user-info; never null. */
  public static List<String> secrets(String url) {
    List<String> secrets = new ArrayList<>();
    if (url == null) {
      return secrets;
    }
    Matcher userInfo = USER_INFO.matcher(url);
    while (userInfo.find()) {
      addIfPresent(secrets, userInfo.group(2));
    }
    Matcher parameter = SECRET_PARAMETER.matcher(url);
    while (parameter.find()) {
      addIfPresent(secrets, parameter.group(3));
    }
    return secrets;
  }

  /** Adds {@code secret} unless it is null or empty. */
  public static void addIfPresent(Collection<String> secrets, String secret) {
    if (secret != null && !secret.isEmpty()) {
      secrets.add(secret);
    }
  }

  /**
   * {@code message} with quoted URLs redacted, or a placeholder when it still contains one of
   * {@code secrets}.
   */
  public static String scrub(String message, Collection<String> secrets) {
    if (message == null) {
      return null;
    }
    String redacted = redact(message);
    for (String secret : secrets) {
      if (!secret.isEmpty() && redacted.contains(secret)) {
        return WITHHELD;
      }
    }
    return redacted;
  }

  /**
   * {@code error} itself when no message in its cause chain changes under {@link #scrub}; otherwise
   * a copy of the chain with scrubbed messages, the original class names and stack traces.
   */
  public static Throwable redactChain(Throwable error, Collection<String> secrets) {
    if (error == null || isClean(error, secrets, new IdentityHashMap<>())) {
      return error;
    }
    return copy(error, secrets, new IdentityHashMap<>());
  }

  private static boolean isClean(
      Throwable error, Collection<String> secrets, Map<Throwable, Boolean> seen) {
    for (Throwable t = error; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null && !message.equals(scrub(message, secrets))) {
        return false;
      }
    }
    return true;
  }

  private static Throwable copy(
      Throwable error, Collection<String> secrets, Map<Throwable, Boolean> seen) {
    seen.put(error, Boolean.TRUE);
    Throwable cause = error.getCause();
    Throwable copiedCause =
        cause == null || seen.containsKey(cause) ? null : copy(cause, secrets, seen);
    String message = scrub(error.getMessage(), secrets);
    Redacted copy =
        new Redacted(
            error.getClass().getName() + (message == null ? "" : ": " + message), copiedCause);
    copy.setStackTrace(error.getStackTrace());
    return copy;
  }

  private static String quote(String replacement) {
    return Matcher.quoteReplacement(replacement);
  }

  /** Stands in for an exception whose message revealed a password; prints as the original. */
  static final class Redacted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Redacted(String description, Throwable cause) {
      super(description, cause);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}
