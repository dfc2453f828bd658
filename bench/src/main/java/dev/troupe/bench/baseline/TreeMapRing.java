package dev.troupe.bench.baseline;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import net.openhft.hashing.LongHashFunction;

/**
 * The classic Java consistent-hash ring, as a baseline for {@code HashRing}: a {@code TreeMap<Long,
 * String>} holding {@code virtualNodes} positions per member and a {@code ceilingEntry} lookup,
 * with the same xxHash64 (seed 0) of the UTF-8 key and of {@code member + i} as {@code HashRing}.
 * No partitions and no load bound: a key goes to the first virtual node at or after its hash (in
 * signed {@code Long} order, wrapping to the first entry).
 */
public final class TreeMapRing {
  private static final LongHashFunction XX = LongHashFunction.xx();

  private final TreeMap<Long, String> ring = new TreeMap<>();

  /** Places {@code virtualNodes} virtual nodes for each of {@code members}. */
  public TreeMapRing(Collection<String> members, int virtualNodes) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("TreeMapRing needs at least one member");
    }
    for (String member : members) {
      for (int i = 0; i < virtualNodes; i++) {
        ring.put(hash(member + i), member);
      }
    }
  }

  /** Returns the member owning {@code key}: the first virtual node clockwise from its hash. */
  public String pick(String key) {
    Map.Entry<Long, String> entry = ring.ceilingEntry(hash(key));
    return (entry != null ? entry : ring.firstEntry()).getValue();
  }

  private static long hash(String s) {
    return XX.hashBytes(s.getBytes(StandardCharsets.UTF_8));
  }
}
