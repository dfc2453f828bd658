package dev.troupe.cron.internal;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.MDC;

/**
 * INTERNAL API. The MDC keys of the cron log lines: {@value #NODE} on every line of the scheduler
 * and the agent, {@value #JOB} and {@value #INSTANT} (the scheduled instant, ISO-8601) on their
 * lines about one instant of a job. They are added to Pekko's keys ({@code pekkoSource}, {@code
 * pekkoAddress}, ...), never replace them.
 */
public final class CronLogs {
  /*
   * The MDC is thread-local and actors share the dispatcher's threads: a scope puts its keys for
   * one log call and restores what was there; withMdc puts the node's for one message or signal
   * and clears the MDC afterwards.
   */

  /** The node's name ({@code TroupeNode.name()}). */
  public static final String NODE = "troupe.node";

  /** The job's name. */
  public static final String JOB = "troupe.job";

  /** The scheduled instant, ISO-8601 ({@code 2026-12-07T09:00:00Z}). */
  public static final String INSTANT = "troupe.instant";

  private CronLogs() {}

  /** {@code behavior}, whose log lines carry the node's name: the scheduler's and the agent's. */
  public static <T> Behavior<T> onNode(Class<T> protocol, String node, Behavior<T> behavior) {
    return Behaviors.withMdc(protocol, Map.of(NODE, node), behavior);
  }

  /** Puts the keys of {@code job} at {@code instant} into the MDC until the scope is closed. */
  static Scope about(String job, Instant instant) {
    return new Scope(Map.of(JOB, job, INSTANT, instant.toString()));
  }

  /** The MDC keys of one log call; closing restores the values they had. */
  static final class Scope implements AutoCloseable {
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
