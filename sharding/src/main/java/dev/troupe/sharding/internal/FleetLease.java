package dev.troupe.sharding.internal;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.coordination.lease.LeaseSettings;
import org.apache.pekko.coordination.lease.javadsl.Lease;

/**
 * INTERNAL API. The Pekko lease of one fleet shard ({@code troupe.sharding.fleet-lease}): Cluster
 * Sharding takes it before the shard starts its workers and stops the shard when it is lost. It is
 * a view of the node's {@link FleetFence}.
 */
public final class FleetLease extends Lease {
  private final LeaseSettings settings;
  private final FleetFence fence;

  /** Pekko's constructor (see {@code pekko.coordination.lease}). */
  public FleetLease(LeaseSettings settings, ExtendedActorSystem system) {
    this.settings = settings;
    this.fence = FleetFence.get(Adapter.toTyped(system));
  }

  @Override
  public LeaseSettings getSettings() {
    return settings;
  }

  @Override
  public CompletionStage<Boolean> acquire() {
    return acquire(reason -> {});
  }

  @Override
  public CompletionStage<Boolean> acquire(Consumer<Optional<Throwable>> leaseLostCallback) {
    return fence.acquire(settings.leaseName(), leaseLostCallback);
  }

  @Override
  public CompletionStage<Boolean> release() {
    return fence.release(settings.leaseName());
  }

  @Override
  public boolean checkLease() {
    return fence.holds(settings.leaseName());
  }
}
