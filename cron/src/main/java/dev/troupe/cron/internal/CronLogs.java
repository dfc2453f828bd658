package dev.troupe.cron.internal;

import dev.troupe.core.LogContext;
import java.time.Instant;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;

/**
 * INTERNAL API. The MDC keys of the cron log lines: {@value #NODE} on every line of the scheduler
 * and the agent, {@value #JOB} and {@value #INSTANT} (the scheduled instant, ISO-8601) on their
 * lines about one instant of a job. They are added to Pekko's keys ({@code pekkoSource}, {@code
 * pekkoAddress}, ...), never replace them.
 */
public final class CronLogs {
  /** The node's name ({@code TroupeNode.name()}). */
  public static final String NODE = LogContext.NODE;

  /** The job's name. */
  public static final String JOB = "troupe.job";

  /** The scheduled instant, ISO-8601 ({@code 2026-12-07T09:00:00Z}). */
  public static final String INSTANT = "troupe.instant";

  private CronLogs() {}

  /** {@code behavior}, whose log lines carry the node's name: the scheduler's and the agent's. */
  public static <T> Behavior<T> onNode(Class<T> protocol, String node, Behavior<T> behavior) {
    return LogContext.onNode(protocol, node, behavior);
  }

  /** Puts the keys of {@code job} at {@code instant} into the MDC until the scope is closed. */
  static LogContext.Scope about(String job, Instant instant) {
    return LogContext.with(Map.of(JOB, job, INSTANT, instant.toString()));
  }
}
