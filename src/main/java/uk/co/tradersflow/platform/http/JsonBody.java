package uk.co.tradersflow.platform.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * A reply body that writes itself as JSON text, for the hottest replies (invoice pages): no
 * JsonObject tree is built and walked, and text the database already rendered as JSON (an
 * invoice's lines) goes out as it is, unparsed. Everything else answers with a JsonObject.
 */
@FunctionalInterface
public interface JsonBody {
  void writeTo(JsonGenerator json) throws IOException;

  default Buffer toBuffer() {
    BufferOutput out = new BufferOutput();
    try (JsonGenerator json = BufferOutput.JSON.createGenerator(out)) {
      writeTo(json);
    } catch (IOException e) {
      // Writing to memory does not fail; a generator misuse (an unclosed object, say) does.
      throw new UncheckedIOException(e);
    }
    return out.buffer;
  }

  /** {@code value} as its {@link Instant#toString()} text, or {@code null}. */
  static void instantOrNull(JsonGenerator json, String field, Instant value) throws IOException {
    stringOrNull(json, field, value == null ? null : IsoInstant.format(value));
  }

  /** {@code value} as a string field, or {@code null}. */
  static void stringOrNull(JsonGenerator json, String field, Object value) throws IOException {
    if (value == null) {
      json.writeNullField(field);
    } else {
      json.writeStringField(field, value.toString());
    }
  }
}

/** Jackson writes its own 8 KiB chunks here, straight into the reply's buffer. */
final class BufferOutput extends OutputStream {
  static final JsonFactory JSON = JsonFactory.builder().build();

  final Buffer buffer = Buffer.buffer(8192);

  @Override
  public void write(int b) {
    buffer.appendByte((byte) b);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) {
    buffer.appendBytes(bytes, offset, length);
  }
}
