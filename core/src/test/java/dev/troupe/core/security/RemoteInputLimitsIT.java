package dev.troupe.core.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.internal.TwoNodeWarning;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import scala.util.Try;

/**
 * FAULTS.md S6, S7, S8 on a two-node cluster: a message of a class with no serializer binding, a
 * Jackson document nested 100k deep, a class name in the manifest that is not bound, and a 300 KiB
 * message are all rejected, and the node keeps running and delivering.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class RemoteInputLimitsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int JACKSON_CBOR = 33;

  /** A remote message. */
  public record Text(String text) implements TroupeSerializable {}

  /** A remote message whose field takes any JSON value, nested arrays too. */
  public record Anything(Object value) implements TroupeSerializable {}

  /** Java-serializable but not bound to a serializer: must never cross the network. */
  public record Unbound(String text) implements Serializable {}

  private TestCluster cluster;
  private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
  private ActorRef<Object> remoteReceiver; // on node 1, as node 0 sees it

  private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();

  @BeforeAll
  void start() {
    warnings.start();
    ((Logger) LoggerFactory.getLogger(TwoNodeWarning.class)).addAppender(warnings);
    cluster = TestCluster.start(2, "troupe.storage.url = \"jdbc:h2:mem:limits;DB_CLOSE_DELAY=-1\"");
    TroupeNode receiverNode = cluster.node(1);
    ActorRef<Object> receiver =
        receiverNode
            .system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    message -> {
                      received.add(message);
                      return Behaviors.same();
                    }),
                "limitsReceiver",
                Props.empty());
    String path = ActorRefResolver.get(receiverNode.system()).toSerializationFormat(receiver);
    remoteReceiver = ActorRefResolver.get(cluster.node(0).system()).resolveActorRef(path);
    remoteReceiver.tell(new Text("hello"));
    assertEquals(new Text("hello"), poll());
  }

  @AfterAll
  void stop() {
    ((Logger) LoggerFactory.getLogger(TwoNodeWarning.class)).detachAppender(warnings);
    cluster.close();
  }

  @Test
  void aTwoNodeClusterUnderKeepMajorityWarnsOfTheFullOutageRisk() {
    Eventually.awaitAssert(
        TIMEOUT,
        "a warning on each of the two nodes",
        () -> {
          long count =
              warnings.list.stream()
                  .filter(e -> e.getLevel() == Level.WARN)
                  .filter(e -> e.getFormattedMessage().contains("2 members"))
                  .filter(e -> e.getFormattedMessage().contains("keep-majority"))
                  .count();
          assertEquals(2, count, warnings.list.toString());
        });
  }

  private Object poll() {
    try {
      return received.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next message both nodes exchange is still delivered, and the cluster has both nodes. */
  private void assertStillServing(String marker) {
    remoteReceiver.tell(new Text(marker));
    assertEquals(new Text(marker), poll(), "the message sent after the bad one");
    assertEquals(2, cluster.node(1).members().size());
    assertEquals(2, cluster.node(0).members().size());
  }

  @Test
  void aMessageWithNoSerializerBindingIsDroppedNotSent() {
    remoteReceiver.tell(new Unbound("java serialization would carry me"));
    assertStillServing("after-unbound");
    assertFalse(received.stream().anyMatch(m -> m instanceof Unbound), received.toString());
  }

  @Test
  void aMessageAboveTheFrameSizeIsDroppedAndCounted() {
    long before = cluster.node(0).droppedOversizedMessages();
    remoteReceiver.tell(new Text("x".repeat(300 * 1024)));
    Eventually.awaitAssert(
        TIMEOUT,
        "the oversized message counted",
        () -> assertEquals(before + 1, cluster.node(0).droppedOversizedMessages()));
    assertStillServing("after-oversized");
    assertTrue(received.isEmpty(), "only the marker arrived: " + received);
  }

  @Test
  void aDocumentNestedDeeplyIsRejectedWithoutExhaustingTheStack() {
    Serialization serialization =
        SerializationExtension.get(cluster.node(1).system().classicSystem());
    String manifest = Anything.class.getName();
    Try<Object> shallow = serialization.deserialize(nested(10), JACKSON_CBOR, manifest);
    assertTrue(shallow.isSuccess(), "10 levels are fine: " + shallow);
    for (int depth : new int[] {100, 100_000}) {
      Try<Object> deep = serialization.deserialize(nested(depth), JACKSON_CBOR, manifest);
      assertTrue(deep.isFailure(), depth + " levels were accepted");
      Throwable cause = deep.failed().get();
      assertFalse(cause instanceof StackOverflowError, "stack exhausted at " + depth);
      assertTrue(
          String.valueOf(cause.getMessage()).contains("nesting depth"), depth + ": " + cause);
    }
    assertStillServing("after-nested");
  }

  @Test
  void aManifestNamingAClassThatIsNotBoundIsRefused() {
    Serialization serialization =
        SerializationExtension.get(cluster.node(1).system().classicSystem());
    byte[] emptyMap = {(byte) 0xA0};
    for (String className :
        new String[] {
          "java.util.HashMap", "com.sun.rowset.JdbcRowSetImpl", Unbound.class.getName()
        }) {
      Try<Object> result = serialization.deserialize(emptyMap, JACKSON_CBOR, className);
      assertTrue(result.isFailure(), className + " was instantiated: " + result);
      assertInstanceOf(
          IllegalArgumentException.class, result.failed().get(), className + ": wrong failure");
    }
    assertStillServing("after-manifest");
  }

  /** CBOR of {@code {"value": [[[...0...]]]}} with {@code depth} nested arrays. */
  private static byte[] nested(int depth) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(depth + 16);
    out.write(0xA1); // map of one entry
    byte[] key = "value".getBytes(StandardCharsets.US_ASCII);
    out.write(0x60 + key.length); // text string of 5 bytes
    out.write(key, 0, key.length);
    for (int i = 0; i < depth; i++) {
      out.write(0x81); // array of one element
    }
    out.write(0x00); // the integer 0
    return out.toByteArray();
  }
}
