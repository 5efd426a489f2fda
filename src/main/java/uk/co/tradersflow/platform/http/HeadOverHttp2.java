package uk.co.tradersflow.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.core.net.HostAndPort;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.util.Set;

/**
 * HEAD over HTTP/2. Vert.x 5.0 drops a HEAD response's body on HTTP/1.x but sends it as DATA
 * frames on HTTP/2, which RFC 9113 8.1.1 forbids and clients answer with a PROTOCOL_ERROR
 * reset. A HEAD request on h2 is handed to the router with a response that sends the head
 * (Content-Length as the body would have had it) and drops the body, whoever writes it.
 */
final class HeadOverHttp2 extends HttpServerRequestWrapper {
  private final HttpServerResponse response;

  private HeadOverHttp2(HttpServerRequestInternal request) {
    super(request);
    this.response = new BodylessResponse(request.response());
  }

  /** The request itself, or for HEAD over HTTP/2 the same request with a body-dropping response. */
  static HttpServerRequest wrap(HttpServerRequest request) {
    return request.method() == HttpMethod.HEAD && request.version() == HttpVersion.HTTP_2
        && request instanceof HttpServerRequestInternal internal ? new HeadOverHttp2(internal) : request;
  }

  @Override
  public HttpServerResponse response() {
    return response;
  }

  /** Delegates everything but the body, which it counts for Content-Length and drops. */
  private static final class BodylessResponse implements HttpServerResponse {
    private final HttpServerResponse delegate;

    BodylessResponse(HttpServerResponse delegate) {
      this.delegate = delegate;
    }

    @Override
    public HttpServerResponse exceptionHandler(Handler<Throwable> a0) {
      delegate.exceptionHandler(a0);
      return this;
    }

    @Override
    public HttpServerResponse setWriteQueueMaxSize(int a0) {
      delegate.setWriteQueueMaxSize(a0);
      return this;
    }

    @Override
    public HttpServerResponse drainHandler(Handler<Void> a0) {
      delegate.drainHandler(a0);
      return this;
    }

    @Override
    public int getStatusCode() {
      return delegate.getStatusCode();
    }

    @Override
    public HttpServerResponse setStatusCode(int a0) {
      delegate.setStatusCode(a0);
      return this;
    }

    @Override
    public String getStatusMessage() {
      return delegate.getStatusMessage();
    }

    @Override
    public HttpServerResponse setStatusMessage(String a0) {
      delegate.setStatusMessage(a0);
      return this;
    }

    @Override
    public HttpServerResponse setChunked(boolean a0) {
      delegate.setChunked(a0);
      return this;
    }

    @Override
    public boolean isChunked() {
      return delegate.isChunked();
    }

    @Override
    public MultiMap headers() {
      return delegate.headers();
    }

    @Override
    public HttpServerResponse putHeader(String a0, String a1) {
      delegate.putHeader(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putHeader(CharSequence a0, CharSequence a1) {
      delegate.putHeader(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putHeader(String a0, Iterable<String> a1) {
      delegate.putHeader(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putHeader(CharSequence a0, Iterable<CharSequence> a1) {
      delegate.putHeader(a0, a1);
      return this;
    }

    @Override
    public MultiMap trailers() {
      return delegate.trailers();
    }

    @Override
    public HttpServerResponse putTrailer(String a0, String a1) {
      delegate.putTrailer(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putTrailer(CharSequence a0, CharSequence a1) {
      delegate.putTrailer(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putTrailer(String a0, Iterable<String> a1) {
      delegate.putTrailer(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse putTrailer(CharSequence a0, Iterable<CharSequence> a1) {
      delegate.putTrailer(a0, a1);
      return this;
    }

    @Override
    public HttpServerResponse closeHandler(Handler<Void> a0) {
      delegate.closeHandler(a0);
      return this;
    }

    @Override
    public HttpServerResponse endHandler(Handler<Void> a0) {
      delegate.endHandler(a0);
      return this;
    }

    @Override
    public Future<Void> writeHead() {
      return delegate.writeHead();
    }

    @Override
    public Future<Void> write(String a0, String a1) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> write(String a0) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> writeContinue() {
      return delegate.writeContinue();
    }

    @Override
    public Future<Void> writeEarlyHints(MultiMap a0) {
      return delegate.writeEarlyHints(a0);
    }

    @Override
    public Future<Void> end(String a0) {
      return end(Buffer.buffer(a0));
    }

    @Override
    public Future<Void> end(String a0, String a1) {
      return end(Buffer.buffer(a0, a1));
    }

    @Override
    public Future<Void> end(Buffer a0) {
      if (!delegate.headWritten() && !delegate.isChunked() && !delegate.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
        delegate.putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(a0.length()));
      }
      return delegate.end();
    }

    @Override
    public Future<Void> end() {
      return delegate.end();
    }

    @Override
    public Future<Void> sendFile(String a0, long a1, long a2) {
      return delegate.end();
    }

    @Override
    public Future<Void> sendFile(FileChannel a0, long a1, long a2) {
      return delegate.end();
    }

    @Override
    public Future<Void> sendFile(RandomAccessFile a0, long a1, long a2) {
      return delegate.end();
    }

    @Override
    public boolean ended() {
      return delegate.ended();
    }

    @Override
    public boolean closed() {
      return delegate.closed();
    }

    @Override
    public boolean headWritten() {
      return delegate.headWritten();
    }

    @Override
    public HttpServerResponse headersEndHandler(Handler<Void> a0) {
      delegate.headersEndHandler(a0);
      return this;
    }

    @Override
    public HttpServerResponse bodyEndHandler(Handler<Void> a0) {
      delegate.bodyEndHandler(a0);
      return this;
    }

    @Override
    public long bytesWritten() {
      return delegate.bytesWritten();
    }

    @Override
    public int streamId() {
      return delegate.streamId();
    }

    @Override
    public Future<HttpServerResponse> push(HttpMethod a0, HostAndPort a1, String a2, MultiMap a3) {
      return delegate.push(a0, a1, a2, a3);
    }

    @Override
    public Future<Void> reset(long a0) {
      return delegate.reset(a0);
    }

    @Override
    public Future<Void> writeCustomFrame(int a0, int a1, Buffer a2) {
      return delegate.writeCustomFrame(a0, a1, a2);
    }

    @Override
    public HttpServerResponse addCookie(Cookie a0) {
      delegate.addCookie(a0);
      return this;
    }

    @Override
    public Cookie removeCookie(String a0, boolean a1) {
      return delegate.removeCookie(a0, a1);
    }

    @Override
    public Set<Cookie> removeCookies(String a0, boolean a1) {
      return delegate.removeCookies(a0, a1);
    }

    @Override
    public Cookie removeCookie(String a0, String a1, String a2, boolean a3) {
      return delegate.removeCookie(a0, a1, a2, a3);
    }

    @Override
    public Future<Void> write(Buffer a0) {
      return Future.succeededFuture();
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }
  }
}
