package dev.troupe.daemons.internal;

import dev.troupe.core.LogContext;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * INTERNAL API. The MDC keys of the daemons' log lines: {@value #NODE} on every line of the host
 * and the leader, {@value #DAEMON} and {@value #EPOCH} on their lines about one daemon and on the
 * daemon's own lines. They are added to Pekko's keys ({@code pekkoSource}, {@code pekkoAddress},
 * ...), never replace them.
 */
public final class DaemonLogs {
  /*
   * The MDC is thread-local and actors share the dispatcher's threads: a scope puts its keys for
   * one log call and restores what was there; the interceptors put theirs for one message or
   * signal and remove them afterwards (Pekko clears the MDC after a message too, but only for an
   * actor that logged through its context).
   *
   * The daemon's own behavior gets an interceptor of its own, not Behaviors.withMdc: a withMdc
   * around the application's behavior would remove any withMdc inside it (the outermost wins),
   * and the application's keys would be lost.
   */

  /** The node's name ({@code TroupeNode.name()}). */
  public static final String NODE = LogContext.NODE;

  /** The daemon's name. */
  public static final String DAEMON = "troupe.daemon";

  /** The daemon instance's epoch. */
  public static final String EPOCH = "troupe.epoch";

  private DaemonLogs() {}

  /** {@code behavior}, whose log lines carry the node's name: the host's and the leader's. */
  public static <T> Behavior<T> onNode(Class<T> protocol, String node, Behavior<T> behavior) {
    return LogContext.onNode(protocol, node, behavior);
  }

  /**
   * Puts the keys of daemon {@code name} into the MDC until the scope is closed ({@code epoch} 0:
   * no epoch key); for a log call about one daemon.
   */
  static LogContext.Scope about(String name, long epoch) {
    return LogContext.with(keys(name, epoch));
  }

  /**
   * A daemon's own behavior, whose log lines (also its supervisor's) carry its name and epoch,
   * besides any MDC the application sets itself.
   */
  @SuppressWarnings("unchecked")
  static <T> Behavior<T> ofDaemon(String name, long epoch, Behavior<T> behavior) {
    Map<String, String> keys = keys(name, epoch);
    // Object.class: every message, also a supervisor's own (a scheduled restart), is intercepted.
    return Behaviors.intercept(
        () -> new Interceptor<>((Class<T>) (Class<?>) Object.class, keys), behavior);
  }

  private static Map<String, String> keys(String name, long epoch) {
    return epoch > 0 ? Map.of(DAEMON, name, EPOCH, Long.toString(epoch)) : Map.of(DAEMON, name);
  }

  private static final class Interceptor<T> extends BehaviorInterceptor<T, T> {
    private final Map<String, String> keys;

    Interceptor(Class<T> messages, Map<String, String> keys) {
      super(messages);
      this.keys = keys;
    }

    @Override
    public Behavior<T> aroundStart(TypedActorContext<T> ctx, PreStartTarget<T> target) {
      try (LogContext.Scope s = LogContext.with(keys)) {
        return target.start(ctx);
      }
    }

    @Override
    public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T msg, ReceiveTarget<T> target) {
      try (LogContext.Scope s = LogContext.with(keys)) {
        return target.apply(ctx, msg);
      }
    }

    @Override
    public Behavior<T> aroundSignal(
        TypedActorContext<T> ctx, Signal signal, SignalTarget<T> target) {
      try (LogContext.Scope s = LogContext.with(keys)) {
        return target.apply(ctx, signal);
      }
    }

    @Override
    public boolean isSame(BehaviorInterceptor<Object, Object> other) {
      return other instanceof Interceptor<?> i && i.keys.equals(keys);
    }
  }
}
