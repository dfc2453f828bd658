package dev.troupe.core.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * INTERNAL API. The meters of one replicated table, the worker registry ({@code troupe.registry.*})
 * or the address book ({@code troupe.addressbook.*}); the table of names is in core's README.
 */
public final class ReplicaMeters {
  /*
   * Cost: every meter a hot path touches is a field or a per-group entry of a small map, never a
   * registry lookup per call. A lookup (any thread, tens of nanoseconds) adds one LongAdder
   * increment, which the registry reads when it publishes (a FunctionCounter): a Counter through
   * the node's composite cost a lookup 20-80 ns more with a SimpleMeterRegistry attached, a
   * LongAdder a few. Registrations, prunes and propagation are recorded on the owning actor. Tags: the registry tags by group (groups are few;
   * never by worker), the address book by nothing per name (names are per key, unbounded).
   *
   * Propagation lag: each change message carries its origin's wall clock (epoch millis) at the
   * first change of the batch it belongs to (ReplicaMessage.Entries.changedAt); the receiver records
   * now - changedAt when the change becomes visible to its readers (the view publish that follows
   * the apply), clamped at 0. A wall-clock difference between two hosts: clock skew between them
   * adds to (or hides) lag; NTP-synchronized hosts are good to a few milliseconds.
   */

  /** Why entries were dropped without their owner unregistering them. */
  public enum PruneReason {
    /** The local actor (worker or name holder) stopped. */
    ACTOR_STOPPED("actor-stopped"),
    /** Every entry of a node removed from the cluster. */
    NODE_REMOVED("node-removed"),
    /** Every entry of a node that is no longer a member, found by the periodic sweep. */
    NODE_SWEPT("node-swept"),
    /** An address-book holder that lost its name to an older one. */
    DUPLICATE("duplicate");

    private final String tag;

    PruneReason(String tag) {
      this.tag = tag;
    }
  }

  private final MeterRegistry registry;
  private final String prefix;
  private final boolean tagGroups;
  private final LongAdder found = new LongAdder();
  private final LongAdder empty = new LongAdder();
  private final LongAdder unknown = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final Counter registrations;
  private final Timer propagation;
  private final Counter[] prunes = new Counter[PruneReason.values().length];
  private final Map<String, Counter> registrationsByGroup = new ConcurrentHashMap<>();
  private final Map<String, Counter> unregistrationsByGroup = new ConcurrentHashMap<>();
  private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();

  private ReplicaMeters(MeterRegistry registry, String prefix, boolean tagGroups) {
    this.registry = registry;
    this.prefix = prefix;
    this.tagGroups = tagGroups;
    String what = prefix.equals("troupe.registry") ? "worker registry" : "address book";
    lookups("found", found, what);
    lookups("empty", empty, what);
    if (!tagGroups) {
      lookups("unknown", unknown, what);
    }
    FunctionCounter.builder(prefix + ".lookup.failures", failures, LongAdder::sum)
        .description("Lookups in the " + what + " that threw (a bad argument, a timeout)")
        .register(registry);
    this.registrations = tagGroups ? null : registrationCounter(".registrations", null, what);
    this.propagation =
        Timer.builder(prefix + ".propagation")
            .description(
                "From a change on its origin node to its being visible on this node (origin's wall"
                    + " clock: skew between hosts adds to it)")
            .register(registry);
    for (PruneReason reason : PruneReason.values()) {
      prunes[reason.ordinal()] =
          Counter.builder(prefix + ".prunes")
              .description("Entries of the " + what + " dropped without being unregistered")
              .tag("reason", reason.tag)
              .register(registry);
    }
  }

  /** The worker registry's meters: {@code troupe.registry.*}, tagged by group. */
  public static ReplicaMeters registry(MeterRegistry registry) {
    return new ReplicaMeters(registry, "troupe.registry", true);
  }

  /** The address book's meters: {@code troupe.addressbook.*}, not tagged by name. */
  public static ReplicaMeters addressBook(MeterRegistry registry) {
    return new ReplicaMeters(registry, "troupe.addressbook", false);
  }

  private void lookups(String outcome, LongAdder adder, String what) {
    FunctionCounter.builder(prefix + ".lookups", adder, LongAdder::sum)
        .description("Lookups in the " + what + ", by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  private Counter registrationCounter(String suffix, String group, String what) {
    Counter.Builder builder =
        Counter.builder(prefix + suffix)
            .description(
                (suffix.equals(".registrations") ? "Registrations" : "Unregistrations")
                    + " of actors of this node in the "
                    + what);
    if (group != null) {
      builder.tag("group", group);
    }
    return builder.register(registry);
  }

  /** A lookup that found an entry. */
  public void found() {
    found.increment();
  }

  /** A lookup that found none. */
  public void empty() {
    empty.increment();
  }

  /** An address-book resolve that could not tell (Location.Unknown). */
  public void unknown() {
    unknown.increment();
  }

  /** A lookup that failed. */
  public void failed() {
    failures.increment();
  }

  /** A new entry of an actor of this node under {@code group} (ignored for the address book). */
  public void registered(String group) {
    if (!tagGroups) {
      registrations.increment();
      return;
    }
    registrationsByGroup
        .computeIfAbsent(group, g -> registrationCounter(".registrations", g, "worker registry"))
        .increment();
  }

  /** An entry of this node removed by its owner's unregister. */
  public void unregistered(String group) {
    unregistrationsByGroup
        .computeIfAbsent(group, g -> registrationCounter(".unregistrations", g, "worker registry"))
        .increment();
  }

  /** {@code count} entries dropped for {@code reason}. */
  public void pruned(PruneReason reason, int count) {
    if (count > 0) {
      prunes[reason.ordinal()].increment(count);
    }
  }

  /**
   * Records the lag of the changes that arrived with origin stamps {@code originMillis[0..count)},
   * visible now ({@code nowMillis}); stamps of 0 (a sender without them) are skipped.
   */
  public void propagated(long[] originMillis, int count, long nowMillis) {
    for (int i = 0; i < count; i++) {
      long origin = originMillis[i];
      if (origin > 0) {
        propagation.record(Math.max(0, nowMillis - origin), TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * Registers, once per {@code group}, the gauge {@code <prefix>.entries} that reads {@code
   * size.applyAsDouble(source)}; the function must be O(1).
   */
  public <T> void entriesGauge(String group, T source, ToDoubleFunction<T> size) {
    String key = group == null ? "" : group;
    if (gauges.putIfAbsent(key, Boolean.TRUE) != null) {
      return;
    }
    Gauge.Builder<T> builder =
        Gauge.builder(prefix + ".entries", source, size)
            .description("Entries this node holds, of every node")
            .strongReference(true);
    if (group != null) {
      builder.tag("group", group);
    }
    builder.register(registry);
  }
}
