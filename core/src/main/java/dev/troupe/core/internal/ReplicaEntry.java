package dev.troupe.core.internal;

/**
 * INTERNAL API. One entry of a {@link OwnedReplicas} table: what one node registered under a key (a
 * group name or an address-book name) for one actor, identified by {@code (key, path)} on its node.
 *
 * <p>Immutable but for {@link #view} and {@link #pick}, caches for the owning actor (the
 * reader-facing objects built from this entry, with its resolved actor ref), so that a view rebuild
 * neither resolves the ref again nor makes new objects for unchanged entries. Only the owning actor
 * reads and writes them.
 */
public final class ReplicaEntry {
  private final String key;
  private final String protocol;
  private final String path;
  private final long registeredAt;
  private final long extra;
  Object view;
  Object pick; // a second cache slot: the registry's Optional of the ref (free: object padding)

  /**
   * @param key the group or name
   * @param protocol the protocol class name ("" for none)
   * @param path the actor's path on its node, without the address (with {@code #uid})
   * @param registeredAt epoch milliseconds by the registering node's clock
   * @param extra the owner's data: the worker state (0 ACTIVE, 1 DRAINING) or the name's rank
   */
  public ReplicaEntry(String key, String protocol, String path, long registeredAt, long extra) {
    this.key = key;
    this.protocol = protocol;
    this.path = path;
    this.registeredAt = registeredAt;
    this.extra = extra;
  }

  public String key() {
    return key;
  }

  public String protocol() {
    return protocol;
  }

  public String path() {
    return path;
  }

  public long registeredAt() {
    return registeredAt;
  }

  public long extra() {
    return extra;
  }

  /** A copy with {@code newExtra}. */
  public ReplicaEntry withExtra(long newExtra) {
    return new ReplicaEntry(key, protocol, path, registeredAt, newExtra);
  }

  /** Whether {@code other} carries the same data (the view cache aside). */
  public boolean sameAs(ReplicaEntry other) {
    return other != null
        && registeredAt == other.registeredAt
        && extra == other.extra
        && key.equals(other.key)
        && path.equals(other.path)
        && protocol.equals(other.protocol);
  }

  @Override
  public String toString() {
    return "ReplicaEntry["
        + key
        + ", "
        + path
        + ", "
        + protocol
        + ", "
        + registeredAt
        + ", "
        + extra
        + "]";
  }
}
