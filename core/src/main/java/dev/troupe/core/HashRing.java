package dev.troupe.core;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.openhft.hashing.Access;
import net.openhft.hashing.LongHashFunction;

/**
 * An immutable consistent-hash ring with bounded loads over a set of member strings: the single
 * placement function of Troupe.
 *
 * <p>Keys hash into one of {@value #PARTITIONS} partitions, and every partition has exactly one
 * owner. Each member is placed on the ring at {@value #REPLICATION_FACTOR} virtual nodes, and no
 * member owns more than {@value #LOAD_FACTOR} times the mean number of partitions. The ring is a
 * pure function of the member <em>set</em>: every node that computes it from the same members, in
 * any order, gets the same answers, so nothing of it needs to be replicated.
 *
 * <pre>{@code
 * HashRing ring = HashRing.of(List.of("node-a", "node-b", "node-c"));
 * String owner = ring.pick("user-42");                  // always the same member for this key
 * List<String> replicas = ring.pick("user-42", 2);      // the owner, then the next one clockwise
 * HashRing bigger = ring.withMember("node-d");          // about 1/4 of the keys move to node-d
 * }</pre>
 *
 * <p>When a member joins or leaves, about {@code 1/N} of the keys change owner (N is the number of
 * members after a join or before a leave); the bounded load moves a few more, see the design notes
 * in the source for the measured figures.
 *
 * <p>A key is hashed with xxHash64 (seed 0) over its UTF-8 bytes, and its partition is the unsigned
 * remainder of that hash by {@value #PARTITIONS}; {@link #partition(String)} and {@link
 * #ownerOfPartition(int)} expose this two-step mapping so that, for example, a shard allocation
 * strategy can use the partition as the shard id and place it exactly where {@link #pick(String)}
 * places its keys.
 *
 * <p>Instances are immutable and safe to share between threads; {@link #pick(String)} does not
 * allocate for ASCII keys.
 *
 * @since 0.1.0
 */
public final class HashRing {
  /*
  * Design notes.
  *
  * Placement follows github.com/buraksezer/consistent (used by ergo-extensions):
  * - key position: xxHash64(seed 0) of the key's UTF-8 bytes; partition = unsigned hash % 10240.
  * - member positions: the sorted, distinct members each get 40 virtual nodes at
  *   xxHash64(UTF-8 of member + i), i = 0..39 (plain string concatenation, so "node1"+"0" and
  *   "node"+"10" collide; such ties, like any equal positions, are ordered by member name).
  *   Virtual nodes are sorted by unsigned position, then by member name.
  * - partition position: xxHash64 of the partition id as 8 little-endian bytes; the partition's
  *   "home" virtual node is the first one at or after that position (wrapping around).
  * - bounded load: cap = max(ceil(P / n), floor(1.25 * P / n)) partitions per member; a partition
  *   whose home member is full goes to the first member clockwise that still has room. Since
  *   n * cap >= P the walk always ends.
  *
  * Deviation from buraksezer, and why: buraksezer assigns partitions greedily in id order
  * 0..P-1, so which partitions a full member sheds, and where they land, depends on the order in
  * which members fill up; a join lowers the cap, and the changed spill cascades around the ring.
  * Here the assignment is two-pass:
  *   1. every partition goes to its home member, partitions being taken in order of increasing
  *      clockwise distance to their home virtual node (ties by partition id); a member that
  *      reaches the cap keeps the partitions nearest to its virtual nodes and sheds the far ends
  *      of its arcs (the part a newly joining virtual node would take first);
  *   2. the shed partitions, in the same order, walk clockwise from the next virtual node to the
  *      first member below the cap.
  * Members below the cap keep all their home partitions, and only the shed ones cascade.
  *
  * Measured (HashRingTest, bench RingFigures; random "pekko://troupe@ip:port" members, 100k
  * keys): on a join the mean fraction of keys that move is 0.96-1.05 / N for N <= 10,
  * 1.04-1.11 / N for N = 20..50 and 1.15 / N at N = 100; on a leave the keys the leaver did not
  * own that move average at most 0.10 / N for N <= 50 (worst set about 0.3 / N). On the same
  * member sets the id-order greedy pass gave 1.12 / N and 0.11 / N at N = 50: the two-pass order
  * trims the cascade by about a tenth; the rest comes from the cap itself dropping from
  * 1.25P/(N-1) to 1.25P/N, which makes the most loaded members shed more. The 1.2 / N bound holds
  * on average, not for every set: a single join moves more than 1.2 / N in about one set in five
  * (worst seen about 1.6 / N), because the newcomer takes its share of the ring, and with 40
  * virtual nodes that share varies by about 1/sqrt(40) = 16% (plain consistent hashing, no load
  * bound, exceeds 1.2 / N in about one join in ten); the load bound caps the newcomer at 1.25 / N.

  * Hot path: pick(key) = members[owners[partition(key)]]. partition(key) ORs the key's chars
  * (a branch-free loop) and, for ASCII, hashes the String in place through an Access (no byte[]
  * copy; measured at least as fast as getBytes + hashBytes, without 32 bytes of garbage per
  * pick); other keys hash their UTF-8 bytes. The unsigned remainder is spelled out (the
  * arithmetic of recent Long.remainderUnsigned) so that it does not depend on the JDK update.
  */

  /**
   * Number of partitions keys hash into: {@value}. A partition id is in {@code [0, PARTITIONS)}.
   */
  public static final int PARTITIONS = 10240;

  /** Number of virtual nodes of each member on the ring: {@value}. */
  public static final int REPLICATION_FACTOR = 40;

  /**
   * Bound on a member's load relative to the mean: {@value}. No member owns more than {@code
   * max(ceil(PARTITIONS / n), floor(LOAD_FACTOR * PARTITIONS / n))} partitions, n being the member
   * count.
   */
  public static final double LOAD_FACTOR = 1.25;

  private static final LongHashFunction XX = LongHashFunction.xx();

  /** Ring position of every partition: xxHash64 of the id's 8 little-endian bytes. */
  private static final long[] PARTITION_POSITIONS = partitionPositions();

  /** Partition ids in unsigned ring-position order, for a linear merge with the virtual nodes. */
  private static final int[] PARTITIONS_BY_POSITION = partitionsByPosition();

  private static final int PARTITION_BITS = 14; // 1 << 14 > PARTITIONS

  private static final HashRing EMPTY = new HashRing(new String[0]);

  private final String[] members; // sorted, distinct
  private final long[] nodePositions; // virtual nodes in ring order
  private final int[] nodeMembers; // member index of each virtual node
  private final int[] homeNodes; // partition -> first virtual node at or after its position
  private final int[] owners; // partition -> member index
  private final Set<String> memberSet;
  private final Map<String, Integer> loads;

  private HashRing(String[] sortedMembers) {
    this.members = sortedMembers;
    int n = sortedMembers.length;
    if (n == 0) {
      nodePositions = new long[0];
      nodeMembers = new int[0];
      homeNodes = new int[0];
      owners = new int[0];
      memberSet = Set.of();
      loads = Map.of();
      return;
    }
    nodePositions = new long[n * REPLICATION_FACTOR];
    nodeMembers = new int[n * REPLICATION_FACTOR];
    placeVirtualNodes(sortedMembers, nodePositions, nodeMembers);
    homeNodes = homeNodes(nodePositions);
    owners = assign(n);

    int[] counts = new int[n];
    for (int owner : owners) {
      counts[owner]++;
    }
    Map<String, Integer> loadMap = new LinkedHashMap<>();
    for (int m = 0; m < n; m++) {
      loadMap.put(sortedMembers[m], counts[m]);
    }
    memberSet = Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(sortedMembers)));
    loads = Collections.unmodifiableMap(loadMap);
  }

  /**
   * Returns the ring over {@code members}, with {@value #PARTITIONS} partitions, {@value
   * #REPLICATION_FACTOR} virtual nodes per member and load factor {@value #LOAD_FACTOR}.
   *
   * <p>Duplicates count once and the order of {@code members} does not matter: the same set gives
   * the same ring on every node. An empty collection gives an empty ring, on which {@code pick}
   * throws {@link IllegalStateException}. Building a ring of a few hundred members takes a few
   * milliseconds once the JVM is warm (a few tens the first time).
   *
   * @param members the members, such as node addresses; each neither {@code null} nor blank
   * @return the ring over {@code members}
   * @throws IllegalArgumentException if {@code members} is {@code null} or holds a {@code null} or
   *     blank member; the message names the value
   */
  public static HashRing of(Collection<String> members) {
    requireNonNull(members, "HashRing members");
    TreeSet<String> sorted = new TreeSet<>();
    for (String member : members) {
      sorted.add(requireMember(member));
    }
    return sorted.isEmpty() ? EMPTY : new HashRing(sorted.toArray(new String[0]));
  }

  /**
   * Returns the member that owns {@code key}: the owner of the key's {@linkplain #partition(String)
   * partition}. The same key always gives the same member on the same member set, on every node;
   * equal to {@code pick(key, 1).get(0)} and to {@code ownerOfPartition(partition(key))}.
   *
   * <p>This is the hot path: a hash of the key and two array reads, without allocation for ASCII
   * keys.
   *
   * @param key any string; hashed as its UTF-8 bytes
   * @return the owning member; never {@code null}
   * @throws IllegalArgumentException if {@code key} is {@code null}
   * @throws IllegalStateException if the ring has no members
   */
  public String pick(String key) {
    int partition = partition(key);
    if (members.length == 0) {
      throw emptyRing(key);
    }
    return members[owners[partition]];
  }

  /**
   * Returns {@code n} distinct members for {@code key}: the {@linkplain #pick(String) owner} first,
   * then the next distinct members clockwise from the key's partition on the ring. Useful to place
   * replicas or to pick fallbacks; the first element always equals {@code pick(key)}.
   *
   * @param key any string; hashed as its UTF-8 bytes
   * @param n how many members to return, from 1 to the member count
   * @return an immutable list of {@code n} distinct members, the owner first
   * @throws IllegalArgumentException if {@code key} is {@code null}, or if {@code n} is below 1 or
   *     above the member count (the message names both)
   * @throws IllegalStateException if the ring has no members
   */
  public List<String> pick(String key, int n) {
    int partition = partition(key);
    if (members.length == 0) {
      throw emptyRing(key);
    }
    requireArgument(
        n >= 1 && n <= members.length,
        "n must be in 1.."
            + members.length
            + " (the ring's member count is "
            + members.length
            + "), got: "
            + n);
    int owner = owners[partition];
    List<String> picked = new ArrayList<>(n);
    picked.add(members[owner]);
    boolean[] seen = new boolean[members.length];
    seen[owner] = true;
    for (int v = homeNodes[partition]; picked.size() < n; v = next(v)) {
      int member = nodeMembers[v];
      if (!seen[member]) {
        seen[member] = true;
        picked.add(members[member]);
      }
    }
    return Collections.unmodifiableList(picked);
  }

  /**
   * Returns the partition of {@code key}: the unsigned remainder of the xxHash64 (seed 0) of its
   * UTF-8 bytes by {@value #PARTITIONS}. It depends on the key only, not on the members, so it also
   * works on an empty ring.
   *
   * @param key any string
   * @return the partition id, in {@code [0, PARTITIONS)}
   * @throws IllegalArgumentException if {@code key} is {@code null}
   */
  public int partition(String key) {
    return partitionOf(requireNonNull(key, "key"));
  }

  /**
   * Returns the member that owns {@code partition}; {@code pick(key)} equals {@code
   * ownerOfPartition(partition(key))} for every key.
   *
   * @param partition a partition id, in {@code [0, PARTITIONS)}
   * @return the owning member; never {@code null}
   * @throws IllegalArgumentException if {@code partition} is out of range
   * @throws IllegalStateException if the ring has no members
   */
  public String ownerOfPartition(int partition) {
    requireArgument(
        partition >= 0 && partition < PARTITIONS,
        "partition must be in 0.." + (PARTITIONS - 1) + ", got: " + partition);
    if (members.length == 0) {
      throw new IllegalStateException(
          "HashRing has no members: cannot name the owner of partition " + partition);
    }
    return members[owners[partition]];
  }

  /**
   * Returns the ring with {@code member} added; this ring if it is already a member (an equal ring
   * either way).
   *
   * @param member the member to add; neither {@code null} nor blank
   * @return the ring over this ring's members and {@code member}
   * @throws IllegalArgumentException if {@code member} is {@code null} or blank; the message names
   *     the value
   */
  public HashRing withMember(String member) {
    requireMember(member);
    if (memberSet.contains(member)) {
      return this;
    }
    String[] grown = Arrays.copyOf(members, members.length + 1);
    grown[members.length] = member;
    Arrays.sort(grown);
    return new HashRing(grown);
  }

  /**
   * Returns the ring without {@code member}; this ring if it is not a member.
   *
   * @param member the member to remove
   * @return the ring over this ring's members except {@code member}
   * @throws IllegalArgumentException if {@code member} is {@code null}
   */
  public HashRing withoutMember(String member) {
    requireNonNull(member, "HashRing member");
    int index = Arrays.binarySearch(members, member);
    if (index < 0) {
      return this;
    }
    if (members.length == 1) {
      return EMPTY;
    }
    String[] shrunk = new String[members.length - 1];
    System.arraycopy(members, 0, shrunk, 0, index);
    System.arraycopy(members, index + 1, shrunk, index, members.length - index - 1);
    return new HashRing(shrunk);
  }

  /**
   * Returns how many partitions each member owns, in member order; the values sum to {@value
   * #PARTITIONS} (or the map is empty) and none exceeds {@code LOAD_FACTOR} times the mean (when
   * there are more members than partitions, some members own none).
   *
   * @return an immutable map from member to its partition count; empty for an empty ring
   */
  public Map<String, Integer> loads() {
    return loads;
  }

  /**
   * Returns the members of this ring, in natural ({@link String#compareTo}) order.
   *
   * @return an immutable set; empty for an empty ring
   */
  public Set<String> members() {
    return memberSet;
  }

  /** Two rings are equal when they have the same members, and then they give the same answers. */
  @Override
  public boolean equals(Object other) {
    return other instanceof HashRing ring && Arrays.equals(members, ring.members);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(members);
  }

  @Override
  public String toString() {
    return "HashRing" + memberSet;
  }

  // ---- placement ----

  /**
   * Fills the virtual nodes in ring order: unsigned position, then member index (= member name, the
   * members being sorted). Sorts one packed long per node (high bits of the position, node index in
   * the low bits), then an insertion pass on the exact key puts the rare nodes whose positions
   * share those high bits in order; it is linear when nothing needs to move.
   */
  private static void placeVirtualNodes(String[] sortedMembers, long[] positions, int[] owners) {
    int count = positions.length;
    long[] byIndex = new long[count]; // node index = member * REPLICATION_FACTOR + replica
    for (int m = 0; m < sortedMembers.length; m++) {
      byte[] name = sortedMembers[m].getBytes(StandardCharsets.UTF_8);
      byte[] buffer = Arrays.copyOf(name, name.length + 11); // + decimal digits of the replica
      for (int replica = 0; replica < REPLICATION_FACTOR; replica++) {
        int length = appendDecimal(buffer, name.length, replica);
        byIndex[m * REPLICATION_FACTOR + replica] = XX.hashBytes(buffer, 0, length);
      }
    }
    int indexBits = Math.max(1, 64 - Long.numberOfLeadingZeros(count - 1));
    long indexMask = (1L << indexBits) - 1;
    long[] packed = new long[count];
    for (int i = 0; i < count; i++) {
      packed[i] = ((byIndex[i] ^ Long.MIN_VALUE) & ~indexMask) | i; // signed order = unsigned
    }
    Arrays.sort(packed);
    for (int v = 0; v < count; v++) {
      int index = (int) (packed[v] & indexMask);
      long position = byIndex[index];
      int member = index / REPLICATION_FACTOR;
      int w = v;
      while (w > 0 && compareNodes(positions[w - 1], owners[w - 1], position, member) > 0) {
        positions[w] = positions[w - 1];
        owners[w] = owners[w - 1];
        w--;
      }
      positions[w] = position;
      owners[w] = member;
    }
  }

  private static int compareNodes(long position, int member, long otherPosition, int otherMember) {
    int byPosition = Long.compareUnsigned(position, otherPosition);
    return byPosition != 0 ? byPosition : Integer.compare(member, otherMember);
  }

  /** Writes the decimal digits of {@code value} (>= 0) at {@code offset}; returns the new end. */
  private static int appendDecimal(byte[] buffer, int offset, int value) {
    int digits = 1;
    for (int rest = value / 10; rest > 0; rest /= 10) {
      digits++;
    }
    for (int i = offset + digits - 1, rest = value; i >= offset; i--, rest /= 10) {
      buffer[i] = (byte) ('0' + rest % 10);
    }
    return offset + digits;
  }

  /** For each partition, the first virtual node at or after its position, wrapping to node 0. */
  private static int[] homeNodes(long[] nodePositions) {
    int[] home = new int[PARTITIONS];
    int v = 0;
    for (int partition : PARTITIONS_BY_POSITION) {
      long position = PARTITION_POSITIONS[partition];
      while (v < nodePositions.length && Long.compareUnsigned(nodePositions[v], position) < 0) {
        v++;
      }
      home[partition] = v == nodePositions.length ? 0 : v;
    }
    return home;
  }

  /** The two-pass bounded-load assignment of the design notes. */
  private int[] assign(int n) {
    int cap = Math.max((PARTITIONS + n - 1) / n, 5 * PARTITIONS / (4 * n)); // LOAD_FACTOR = 5/4
    // Partitions by clockwise distance to their home node, ties by id: one sortable long each.
    long[] order = new long[PARTITIONS];
    for (int p = 0; p < PARTITIONS; p++) {
      long distance = nodePositions[homeNodes[p]] - PARTITION_POSITIONS[p];
      order[p] = ((distance >>> PARTITION_BITS) << PARTITION_BITS | p) ^ Long.MIN_VALUE;
    }
    Arrays.sort(order);
    int[] assigned = new int[PARTITIONS];
    int[] load = new int[n];
    int[] shed = new int[PARTITIONS];
    int shedCount = 0;
    for (long entry : order) {
      int p = (int) (entry & ((1 << PARTITION_BITS) - 1));
      int home = nodeMembers[homeNodes[p]];
      if (load[home] < cap) {
        assigned[p] = home;
        load[home]++;
      } else {
        shed[shedCount++] = p;
      }
    }
    for (int i = 0; i < shedCount; i++) {
      int p = shed[i];
      int v = next(homeNodes[p]);
      while (load[nodeMembers[v]] >= cap) {
        v = next(v);
      }
      assigned[p] = nodeMembers[v];
      load[nodeMembers[v]]++;
    }
    return assigned;
  }

  private int next(int node) {
    return node + 1 == nodePositions.length ? 0 : node + 1;
  }

  // ---- hashing ----

  private static int partitionOf(String key) {
    return unsignedRemainder(hashKey(key));
  }

  /** Unsigned {@code hash % PARTITIONS}. */
  private static int unsignedRemainder(long hash) {
    long quotient = ((hash >>> 1) / PARTITIONS) << 1;
    long remainder = hash - quotient * PARTITIONS;
    return (int) (remainder >= PARTITIONS ? remainder - PARTITIONS : remainder);
  }

  /** xxHash64 of the UTF-8 bytes of {@code key}; ASCII keys are read in place. */
  private static long hashKey(String key) {
    int length = key.length();
    int bits = 0;
    for (int i = 0; i < length; i++) {
      bits |= key.charAt(i); // no early exit: this loop runs faster than one that branches
    }
    return bits < 0x80 ? XX.hash(key, AsciiAccess.INSTANCE, 0, length) : hashUtf8(key);
  }

  private static long hashUtf8(String s) {
    return XX.hashBytes(s.getBytes(StandardCharsets.UTF_8));
  }

  private static long[] partitionPositions() {
    // hashLong reads its argument as 8 bytes in native order; feed it the little-endian bytes.
    boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    long[] positions = new long[PARTITIONS];
    for (int p = 0; p < PARTITIONS; p++) {
      positions[p] = XX.hashLong(little ? p : Long.reverseBytes(p));
    }
    return positions;
  }

  private static int[] partitionsByPosition() {
    long[] sortable = new long[PARTITIONS];
    for (int p = 0; p < PARTITIONS; p++) {
      sortable[p] =
          ((PARTITION_POSITIONS[p] >>> PARTITION_BITS) << PARTITION_BITS | p) ^ Long.MIN_VALUE;
    }
    Arrays.sort(sortable);
    int[] byPosition = new int[PARTITIONS];
    for (int i = 0; i < PARTITIONS; i++) {
      byPosition[i] = (int) (sortable[i] & ((1 << PARTITION_BITS) - 1));
    }
    return byPosition;
  }

  private static String requireMember(String member) {
    return requireNonBlank(member, "HashRing member");
  }

  private static IllegalStateException emptyRing(String key) {
    return new IllegalStateException(
        "HashRing has no members: cannot pick a member for key [" + key + "]");
  }

  /**
   * Reads a string whose chars are all below 0x80 as its UTF-8 bytes (one byte per char), so that
   * ASCII keys hash without a byte[] copy. Little-endian, as xxHash64 reads its input.
   */
  private static final class AsciiAccess extends Access<String> {
    static final AsciiAccess INSTANCE = new AsciiAccess();

    @Override
    public long getLong(String s, long offset) {
      int i = (int) offset;
      return (s.charAt(i) & 0xFFL)
          | (s.charAt(i + 1) & 0xFFL) << 8
          | (s.charAt(i + 2) & 0xFFL) << 16
          | (s.charAt(i + 3) & 0xFFL) << 24
          | (s.charAt(i + 4) & 0xFFL) << 32
          | (s.charAt(i + 5) & 0xFFL) << 40
          | (s.charAt(i + 6) & 0xFFL) << 48
          | (s.charAt(i + 7) & 0xFFL) << 56;
    }

    @Override
    public long getUnsignedInt(String s, long offset) {
      return getInt(s, offset) & 0xFFFF_FFFFL;
    }

    @Override
    public int getInt(String s, long offset) {
      int i = (int) offset;
      return (s.charAt(i) & 0xFF)
          | (s.charAt(i + 1) & 0xFF) << 8
          | (s.charAt(i + 2) & 0xFF) << 16
          | (s.charAt(i + 3) & 0xFF) << 24;
    }

    @Override
    public int getUnsignedShort(String s, long offset) {
      int i = (int) offset;
      return (s.charAt(i) & 0xFF) | (s.charAt(i + 1) & 0xFF) << 8;
    }

    @Override
    public int getShort(String s, long offset) {
      return (short) getUnsignedShort(s, offset);
    }

    @Override
    public int getUnsignedByte(String s, long offset) {
      return s.charAt((int) offset) & 0xFF;
    }

    @Override
    public int getByte(String s, long offset) {
      return (byte) s.charAt((int) offset);
    }

    @Override
    public ByteOrder byteOrder(String s) {
      return ByteOrder.LITTLE_ENDIAN;
    }

    @Override
    protected Access<String> reverseAccess() {
      // Never reached: xxHash64 asks for little-endian access, which this already is.
      throw new UnsupportedOperationException("AsciiAccess is little-endian only");
    }
  }
}
