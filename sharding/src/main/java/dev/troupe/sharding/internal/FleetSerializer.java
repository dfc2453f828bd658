package dev.troupe.sharding.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.apache.pekko.serialization.Serializers;

/**
 * INTERNAL API. Serializes {@link Traced} and {@link FleetEnvelope}: their fields, and the user's
 * message inside with the serializer Pekko binds to that message (as Pekko's own {@code
 * ShardingEnvelope} serializer does), so that the envelope needs no polymorphic Jackson type
 * information.
 */
public final class FleetSerializer extends SerializerWithStringManifest {
  /** The serializer id: Troupe's range, away from Pekko's 0-40 and common libraries. */
  public static final int ID = 727_110_001;

  private static final String TRACED = "T";
  private static final String ENVELOPE = "E";

  private final ExtendedActorSystem system;

  public FleetSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return ID;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof Traced) {
      return TRACED;
    }
    if (o instanceof FleetEnvelope) {
      return ENVELOPE;
    }
    throw new IllegalArgumentException("FleetSerializer cannot serialize " + o.getClass());
  }

  @Override
  public byte[] toBinary(Object o) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      if (o instanceof Traced traced) {
        out.writeUTF(traced.broadcast());
        out.writeUTF(traced.key());
        out.writeUTF(resolver().toSerializationFormat(traced.crashes()));
        writeMessage(out, traced.message());
      } else if (o instanceof FleetEnvelope envelope) {
        out.writeUTF(envelope.fleet());
        out.writeUTF(envelope.key());
        out.writeInt(envelope.attempt());
        writeMessage(out, envelope.message());
      } else {
        throw new IllegalArgumentException("FleetSerializer cannot serialize " + o.getClass());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The user's message with the serializer Pekko binds to it: id, manifest, bytes. */
  private void writeMessage(DataOutputStream out, Object message) throws IOException {
    Serializer inner = SerializationExtension.get(system).findSerializerFor(message);
    byte[] payload = inner.toBinary(message);
    out.writeInt(inner.identifier());
    out.writeUTF(Serializers.manifestFor(inner, message));
    out.writeInt(payload.length);
    out.write(payload);
  }

  private Object readMessage(DataInputStream in) throws IOException {
    int serializerId = in.readInt();
    String innerManifest = in.readUTF();
    byte[] payload = new byte[in.readInt()];
    in.readFully(payload);
    return SerializationExtension.get(system)
        .deserialize(payload, serializerId, innerManifest)
        .get();
  }

  private ActorRefResolver resolver() {
    return ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!TRACED.equals(manifest) && !ENVELOPE.equals(manifest)) {
      throw new NotSerializableException("FleetSerializer: unknown manifest [" + manifest + "]");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (TRACED.equals(manifest)) {
        String broadcast = in.readUTF();
        String key = in.readUTF();
        String crashes = in.readUTF();
        return new Traced(readMessage(in), broadcast, key, resolver().resolveActorRef(crashes));
      }
      String fleet = in.readUTF();
      String key = in.readUTF();
      int attempt = in.readInt();
      return new FleetEnvelope(fleet, key, readMessage(in), attempt);
    } catch (IOException e) {
      NotSerializableException failure =
          new NotSerializableException("FleetSerializer: corrupt envelope: " + e);
      failure.initCause(e);
      throw failure;
    }
  }
}
