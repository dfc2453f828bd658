package dev.troupe.core;

import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.MDC;

/**
 * The MDC of Troupe's log lines: {@value #NODE} (the node's name) on the lines of Troupe's actors,
 * and a module's own keys (the daemons' {@code troupe.daemon}, cron's {@code troupe.job}, ...) on
 * its lines about one thing. They are added to Pekko's keys ({@code pekkoSource}, {@code
 * pekkoAddress}, ...), never replace them.
 *
 * <p>The MDC is thread-local and actors share the dispatcher's threads: a {@link Scope} puts its
 * keys for one log call and restores what was there; {@link #onNode} puts the node's for one
 * message or signal.
 *
 * <pre>{@code
 * try (LogContext.Scope log = LogContext.with(Map.of("troupe.job", job))) {
 *   logger.warn("delivery failed");
 * }
 * }</pre>
 *
 * @since 0.3.0
 */
public final class LogContext {
  /** The node's name ({@link TroupeNode#name()}). */
  public static final String NODE = "troupe.node";

  private LogContext() {}

  /** {@code behavior}, whose log lines carry the node's name {@code node}. */
  public static <T> Behavior<T> onNode(Class<T> protocol, String node, Behavior<T> behavior) {
    return Behaviors.withMdc(protocol, Map.of(NODE, node), behavior);
  }

  /** Puts {@code keys} into the MDC until the scope is closed. */
  public static Scope with(Map<String, String> keys) {
    return new Scope(keys);
  }

  /** MDC keys for a while; closing restores the values they had. */
  public static final class Scope implements AutoCloseable {
    private final Map<String, String> previous = new HashMap<>();

    private Scope(Map<String, String> keys) {
      keys.forEach(
          (key, value) -> {
            previous.put(key, MDC.get(key));
            MDC.put(key, value);
          });
    }

    @Override
    public void close() {
      previous.forEach(
          (key, value) -> {
            if (value == null) {
              MDC.remove(key);
            } else {
              MDC.put(key, value);
            }
          });
    }
  }
}
