package dev.troupe.sharding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.sharding.internal.FenceRules.ShardLease;
import dev.troupe.sharding.internal.FenceRules.Verdict;
import org.junit.jupiter.api.Test;

/** The single-writer fence's rules: who may take a shard lease, and until when a node trusts. */
final class FenceRulesTest {
  private static final String ME = "pekko://troupe@10.0.0.2:7355#42#1";
  private static final String OTHER = "pekko://troupe@10.0.0.1:7355#17#3";

  @Test
  void aShardNobodyHadOrThatIsAlreadyMineIsTaken() {
    assertTrue(FenceRules.judge(ME, null).take());
    assertTrue(FenceRules.judge(ME, new ShardLease(ME, 4, false, 3000L)).take());
  }

  @Test
  void anotherOwnersShardIsTakenOnlyOnceItCannotAct() {
    assertTrue(FenceRules.judge(ME, new ShardLease(OTHER, 4, true, 3000L)).take(), "released");
    assertTrue(FenceRules.judge(ME, new ShardLease(OTHER, 4, false, null)).take(), "lease ended");
    assertTrue(FenceRules.judge(ME, new ShardLease(OTHER, 4, false, 0L)).take(), "just expired");
    assertTrue(FenceRules.judge(ME, new ShardLease(OTHER, 4, false, -500L)).take(), "expired");

    Verdict wait = FenceRules.judge(ME, new ShardLease(OTHER, 4, false, 2500L));
    assertFalse(wait.take(), "the owner may still act: its lease runs");
    assertEquals(2500, wait.waitMillis(), "asked again when the owner's lease ends");
  }

  @Test
  void aNodeTrustsItsLeaseUntilTheMarginBeforeItCanExpire() {
    long start = 1_000_000_000L;
    long until = FenceRules.trustedUntil(start, 5_000_000_000L, 500_000_000L);
    assertEquals(start + 4_500_000_000L, until);
    assertTrue(FenceRules.trusts(until, until - 1));
    assertFalse(FenceRules.trusts(until, until), "not at the very end");
    assertFalse(FenceRules.trusts(until, until + 1));
    // nanoTime may wrap: the compare is by difference
    long nearWrap = Long.MAX_VALUE - 10;
    long wrapped = FenceRules.trustedUntil(nearWrap, 100, 10);
    assertTrue(FenceRules.trusts(wrapped, nearWrap + 50));
    assertFalse(FenceRules.trusts(wrapped, nearWrap + 95));
  }
}
