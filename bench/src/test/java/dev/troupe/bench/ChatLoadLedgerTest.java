package dev.troupe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChatLoadLedgerTest {
  private static final long MS = 1_000_000;

  @Test
  void acksOfPostsFromAnotherStepAreForeignNotAcked() {
    // The old accounting counted acks arriving after the reset for posts sent during warm-up.
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("s1-c0-0", "room0", 0, 1);
    ledger.sent("s1-c0-0", 0);
    assertFalse(ledger.acked("s0-c0-9", 7, 5 * MS)); // warm-up post, acked in the window
    assertTrue(ledger.acked("s1-c0-0", 8, 6 * MS));
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(1, s.sent());
    assertEquals(1, s.acked());
    assertEquals(1, s.foreignAcks());
  }

  @Test
  void aSecondAckOfAPostIsCountedOnce() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 0, 1);
    ledger.sent("a", 0);
    assertTrue(ledger.acked("a", 1, MS));
    assertFalse(ledger.acked("a", 1, 2 * MS));
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(1, s.acked());
    assertEquals(1, s.duplicateAcks());
  }

  @Test
  void latencyIsMeasuredFromTheIntendedSendTime() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 100 * MS, 2);
    ledger.sent("a", 150 * MS); // the generator was 50 ms late
    ledger.acked("a", 1, 155 * MS);
    ledger.delivered("a", 0, 160 * MS);
    ledger.delivered("a", 1, 170 * MS);
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(60 * MS, s.latency().p50());
    assertEquals(70 * MS, s.latency().p99());
    assertEquals(1, s.lateSends());
    assertEquals(50 * MS, s.maxSendLagNanos());
  }

  @Test
  void aSecondDeliveryToTheSameRecipientIsNotALatencySample() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 0, 2);
    ledger.sent("a", 0);
    ledger.acked("a", 1, MS);
    assertTrue(ledger.delivered("a", 3, 2 * MS));
    assertFalse(ledger.delivered("a", 3, 3 * MS));
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(1, s.deliveries());
    assertEquals(1, s.latency().count());
    assertEquals(1, s.duplicateDeliveries());
    assertEquals(1, s.undelivered());
  }

  @Test
  void countsPartitionThePlannedPostsAndNeverGoNegative() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    for (String id : new String[] {"acked", "rejected", "abandoned", "unacked", "failed", "due"}) {
      ledger.planned(id, "r", 0, 1);
    }
    ledger.sent("acked", 0);
    ledger.acked("acked", 1, MS);
    ledger.sent("rejected", 0);
    ledger.rejected("rejected");
    ledger.sent("abandoned", 0);
    ledger.connectionClosed("abandoned");
    ledger.sent("unacked", 0);
    ledger.sendFailed("failed");
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(6, s.planned());
    assertEquals(4, s.sent());
    assertEquals(1, s.acked());
    assertEquals(1, s.rejected());
    assertEquals(1, s.abandoned());
    assertEquals(1, s.unacked());
    assertEquals(2, s.failed()); // "failed" and "due" (never handed to a socket)
    assertEquals(s.planned(), s.acked() + s.rejected() + s.abandoned() + s.unacked() + s.failed());
  }

  @Test
  void anAckAfterTheConnectionClosedStillCounts() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 0, 1);
    ledger.sent("a", 0);
    ledger.connectionClosed("a");
    ledger.acked("a", 1, MS);
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(1, s.acked());
    assertEquals(0, s.abandoned());
  }

  @Test
  void noDeliveriesMeansNoDataRatherThanACrash() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ChatLoadLedger.Percentiles p = ledger.summary().latency();
    assertTrue(p.empty());
    assertEquals("no data", p.format(p.p99()));
    assertThrows(
        IllegalArgumentException.class, () -> ChatLoadLedger.Percentiles.rank(new long[0], 99));
  }

  @Test
  void nearestRankPercentiles() {
    long[] values = new long[100];
    for (int i = 0; i < 100; i++) {
      values[i] = 100 - i;
    }
    ChatLoadLedger.Percentiles p = ChatLoadLedger.Percentiles.of(values, 100);
    assertEquals(50, p.p50());
    assertEquals(99, p.p99());
    assertEquals(100, p.max());
    assertEquals(7, ChatLoadLedger.Percentiles.of(new long[] {7}, 1).p99());
  }

  @Test
  void lostCountsAcknowledgedPostsMissingOrDifferentInTheDatabase() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    for (String id : new String[] {"a", "b", "c"}) {
      ledger.planned(id, "r", 0, 1);
      ledger.sent(id, 0);
    }
    ledger.acked("a", 1, MS);
    ledger.acked("b", 2, MS);
    ledger.acked("c", 3, MS);
    Map<String, String> stored = Map.of("r#1", "a", "r#2", "someone else's");
    assertEquals(2, ChatLoadLedger.lost(ledger.acknowledged(), stored));
  }

  @Test
  void aPostIdPlannedTwiceIsRefused() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 0, 1);
    assertThrows(IllegalArgumentException.class, () -> ledger.planned("a", "r", 1, 1));
  }

  @Test
  void aRoomIsSettledSinceOnlyByAPostIntendedThenAckedAndDeliveredToEveryone() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("before", "r1", 5 * MS, 1); // fully delivered, but intended before the kill
    ledger.sent("before", 5 * MS);
    ledger.acked("before", 1, 6 * MS);
    ledger.delivered("before", 0, 7 * MS);
    ledger.planned("partly", "r2", 20 * MS, 2); // acked, one of two recipients so far
    ledger.sent("partly", 20 * MS);
    ledger.acked("partly", 1, 21 * MS);
    ledger.delivered("partly", 0, 22 * MS);
    ledger.planned("unacked", "r3", 20 * MS, 1); // delivered, ack still on its way
    ledger.sent("unacked", 20 * MS);
    ledger.delivered("unacked", 0, 22 * MS);
    ledger.planned("done", "r4", 10 * MS, 1);
    ledger.sent("done", 10 * MS);
    ledger.acked("done", 1, 11 * MS);
    ledger.delivered("done", 0, 12 * MS);
    assertEquals(Set.of("r4"), ledger.roomsSettledSince(10 * MS));
    ledger.delivered("partly", 1, 23 * MS);
    ledger.acked("unacked", 1, 24 * MS);
    assertEquals(Set.of("r2", "r3", "r4"), ledger.roomsSettledSince(10 * MS));
  }

  @Test
  void aTimedOutPostIsItsOwnOutcomeUntilALateAckArrives() {
    ChatLoadLedger ledger = new ChatLoadLedger();
    ledger.planned("a", "r", 0, 1);
    ledger.sent("a", 0);
    ledger.planned("b", "r", 0, 1);
    ledger.sent("b", 0);
    ledger.timedOut("a");
    ledger.timedOut("b");
    ChatLoadLedger.Summary s = ledger.summary();
    assertEquals(2, s.timedOut());
    assertEquals(0, s.unacked());
    assertEquals(0, s.rejected());
    ledger.acked("b", 1, 6 * MS); // stored after all
    s = ledger.summary();
    assertEquals(1, s.timedOut());
    assertEquals(1, s.acked());
  }
}
