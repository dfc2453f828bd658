package dev.troupe.core.internal;

import dev.troupe.core.TroupeSerializable;
import java.util.List;

/**
 * INTERNAL API. What the registry and address-book actors of two nodes send each other (see {@link
 * OwnedReplicas}). Every message names its sender's node and incarnation ({@code fromUid}, the
 * cluster's unique address uid), so that a restarted node at the same address is a new peer.
 */
public sealed interface ReplicaMessage
    extends TroupeSerializable, RegistryActor.Command, AddressBookActor.Command {

  /** The sender's node address. */
  String from();

  /** The sender's incarnation. */
  long fromUid();

  /**
   * Changes of the sender's own entries ({@code parts == 0}), or one part of a full copy of them
   * ({@code 0 <= part < parts}). Entries travel as columns: entry i is {@code (keys[keyIndex[i]],
   * protocols[protocolIndex[i]], paths[i], registeredAt[i], extra[i])}; removal j is {@code
   * (keys[removedKeyIndex[j]], removedPaths[j])}. {@code seq} numbers every message of the sender
   * to this receiver, without gaps. {@code changedAt}: the sender's wall clock (epoch millis) at
   * the first change of the batch, for the receiver's propagation-lag meter; 0 in a full copy (and
   * from a sender without the field: Jackson reads a missing field as 0).
   */
  record Entries(
      String from,
      long fromUid,
      long seq,
      int part,
      int parts,
      long changedAt,
      List<String> keys,
      List<String> protocols,
      int[] keyIndex,
      int[] protocolIndex,
      List<String> paths,
      long[] registeredAt,
      long[] extra,
      int[] removedKeyIndex,
      List<String> removedPaths)
      implements ReplicaMessage {

    /** Whether this is a part of a full copy. */
    public boolean isSync() {
      return parts > 0;
    }
  }

  /** Asks the receiver for a full copy of its entries, and to send its changes from now on. */
  record SyncRequest(String from, long fromUid) implements ReplicaMessage {}

  /** The sender's last {@code seq} to the receiver; sent periodically, so a lost message shows. */
  record Status(String from, long fromUid, long lastSeq) implements ReplicaMessage {}

  /** The receiver of {@link Entries} {@code seq} applied it (and every message before it). */
  record Ack(String from, long fromUid, long seq) implements ReplicaMessage {}
}
