package dev.troupe.core.internal;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerState;

/**
 * INTERNAL API. What the registry replicates about one registration beyond the receptionist's
 * listing (which holds the registration's {@link RegistrationHandle}): the worker, the registering
 * node's time and the worker's state. Written only by the worker's node.
 *
 * @param group the group name
 * @param protocol the group's protocol class name
 * @param ref the worker, in {@code ActorRefResolver} serialization format (with the node address)
 * @param handle the registration's handle, in the same format: the metadata map key
 * @param node the worker's node address
 * @param registeredAt epoch milliseconds, by the registering node's clock
 * @param state whether the worker takes new work
 */
public record WorkerMeta(
    String group,
    String protocol,
    String ref,
    String handle,
    String node,
    long registeredAt,
    WorkerState state)
    implements TroupeSerializable {

  /** This record's metadata map key: the handle, unique per registration. */
  public String key() {
    return handle;
  }

  /** A copy in {@code newState}. */
  public WorkerMeta withState(WorkerState newState) {
    return new WorkerMeta(group, protocol, ref, handle, node, registeredAt, newState);
  }
}
