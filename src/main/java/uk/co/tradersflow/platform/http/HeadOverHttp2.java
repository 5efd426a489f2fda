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
        return request.method() == HttpMethod.HEAD
                        && request.version() == HttpVersion.HTTP_2
                        && request instanceof HttpServerRequestInternal internal
                ? new HeadOverHttp2(internal)
                : request;
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
        public HttpServerResponse exceptionHandler(Handler<Throwable> handler) {
            delegate.exceptionHandler(handler);
            return this;
        }

        @Override
        public HttpServerResponse setWriteQueueMaxSize(int maxSize) {
            delegate.setWriteQueueMaxSize(maxSize);
            return this;
        }

        @Override
        public HttpServerResponse drainHandler(Handler<Void> handler) {
            delegate.drainHandler(handler);
            return this;
        }

        @Override
        public int getStatusCode() {
            return delegate.getStatusCode();
        }

        @Override
        public HttpServerResponse setStatusCode(int statusCode) {
            delegate.setStatusCode(statusCode);
            return this;
        }

        @Override
        public String getStatusMessage() {
            return delegate.getStatusMessage();
        }

        @Override
        public HttpServerResponse setStatusMessage(String statusMessage) {
            delegate.setStatusMessage(statusMessage);
            return this;
        }

        @Override
        public HttpServerResponse setChunked(boolean chunked) {
            delegate.setChunked(chunked);
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
        public HttpServerResponse putHeader(String name, String value) {
            delegate.putHeader(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putHeader(CharSequence name, CharSequence value) {
            delegate.putHeader(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putHeader(String name, Iterable<String> value) {
            delegate.putHeader(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putHeader(CharSequence name, Iterable<CharSequence> value) {
            delegate.putHeader(name, value);
            return this;
        }

        @Override
        public MultiMap trailers() {
            return delegate.trailers();
        }

        @Override
        public HttpServerResponse putTrailer(String name, String value) {
            delegate.putTrailer(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putTrailer(CharSequence name, CharSequence value) {
            delegate.putTrailer(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putTrailer(String name, Iterable<String> value) {
            delegate.putTrailer(name, value);
            return this;
        }

        @Override
        public HttpServerResponse putTrailer(CharSequence name, Iterable<CharSequence> value) {
            delegate.putTrailer(name, value);
            return this;
        }

        @Override
        public HttpServerResponse closeHandler(Handler<Void> handler) {
            delegate.closeHandler(handler);
            return this;
        }

        @Override
        public HttpServerResponse endHandler(Handler<Void> handler) {
            delegate.endHandler(handler);
            return this;
        }

        @Override
        public Future<Void> writeHead() {
            return delegate.writeHead();
        }

        @Override
        public Future<Void> write(String text, String encoding) {
            return Future.succeededFuture();
        }

        @Override
        public Future<Void> write(String text) {
            return Future.succeededFuture();
        }

        @Override
        public Future<Void> writeContinue() {
            return delegate.writeContinue();
        }

        @Override
        public Future<Void> writeEarlyHints(MultiMap headers) {
            return delegate.writeEarlyHints(headers);
        }

        @Override
        public Future<Void> end(String text) {
            return end(Buffer.buffer(text));
        }

        @Override
        public Future<Void> end(String text, String encoding) {
            return end(Buffer.buffer(text, encoding));
        }

        @Override
        public Future<Void> end(Buffer chunk) {
            if (!delegate.headWritten()
                    && !delegate.isChunked()
                    && !delegate.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                delegate.putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(chunk.length()));
            }
            return delegate.end();
        }

        @Override
        public Future<Void> end() {
            return delegate.end();
        }

        @Override
        public Future<Void> sendFile(String file, long offset, long length) {
            return delegate.end();
        }

        @Override
        public Future<Void> sendFile(FileChannel file, long offset, long length) {
            return delegate.end();
        }

        @Override
        public Future<Void> sendFile(RandomAccessFile file, long offset, long length) {
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
        public HttpServerResponse headersEndHandler(Handler<Void> handler) {
            delegate.headersEndHandler(handler);
            return this;
        }

        @Override
        public HttpServerResponse bodyEndHandler(Handler<Void> handler) {
            delegate.bodyEndHandler(handler);
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
        public Future<HttpServerResponse> push(
                HttpMethod method, HostAndPort authority, String path, MultiMap headers) {
            return delegate.push(method, authority, path, headers);
        }

        @Override
        public Future<Void> reset(long code) {
            return delegate.reset(code);
        }

        @Override
        public Future<Void> writeCustomFrame(int type, int flags, Buffer payload) {
            return delegate.writeCustomFrame(type, flags, payload);
        }

        @Override
        public HttpServerResponse addCookie(Cookie cookie) {
            delegate.addCookie(cookie);
            return this;
        }

        @Override
        public Cookie removeCookie(String name, boolean invalidate) {
            return delegate.removeCookie(name, invalidate);
        }

        @Override
        public Set<Cookie> removeCookies(String name, boolean invalidate) {
            return delegate.removeCookies(name, invalidate);
        }

        @Override
        public Cookie removeCookie(String name, String domain, String path, boolean invalidate) {
            return delegate.removeCookie(name, domain, path, invalidate);
        }

        @Override
        public Future<Void> write(Buffer chunk) {
            return Future.succeededFuture();
        }

        @Override
        public boolean writeQueueFull() {
            return false;
        }
    }
}
