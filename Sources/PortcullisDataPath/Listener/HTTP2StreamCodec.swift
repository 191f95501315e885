import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Turns one HTTP/2 stream's frames into HTTP/1-style request parts for ``ProxyHandler``, and
/// its responses back into frames. It states the request's framing the way an HTTP/1.1
/// parser would have seen it (``RequestFraming``):
/// - `content-length` stays (HTTP/2 has checked the DATA against it);
/// - HEADERS without END_STREAM and no `content-length`: `transfer-encoding: chunked`, whatever
///   the method, so a body on `GET` or `DELETE` is never sent on without framing;
/// - HEADERS with END_STREAM: no body.
///
/// `GET` and `HEAD` refuse bodies (``RequestPlanner``), so for them a HEADERS frame without
/// END_STREAM is held until the next frame says whether a body follows: an empty DATA with
/// END_STREAM (some clients end a GET that way) is no body; anything else is.
///
/// HTTP/2 forbids `transfer-encoding` and the other connection-specific fields from clients
/// (NIOHTTP2 refuses such a stream), so a framing header in the result is always this codec's.
/// `:authority` becomes `Host`; a `host` field that names something else is kept beside it, so
/// the request is refused for naming two hosts. Split `cookie` fields are joined (RFC 9113
/// §8.2.3), as HTTP/1.1 allows one `Cookie` header.
final class HTTP2StreamCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var headReceived = false
    /// A `GET` or `HEAD` head held until it is known whether a body follows.
    private var heldHead: HTTPRequestHead?
    /// The last frame written, held back so the end of the response can travel on it.
    private var pending: (payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>?)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if headReceived {
                if var head = heldHead {
                    heldHead = nil
                    head.headers.remove(name: "transfer-encoding")
                    context.fireChannelRead(wrapInboundOut(.head(head)))
                }
                // Trailers end the request; the proxy drops them.
                context.fireChannelRead(wrapInboundOut(.end(nil)))
                return
            }
            headReceived = true
            guard let head = Self.requestHead(headers.headers, endStream: headers.endStream) else {
                context.fireErrorCaught(HTTP2StreamCodecError.malformedRequestHead)
                return
            }
            if !headers.endStream, head.method == .GET || head.method == .HEAD, !head.headers.contains(name: "content-length") {
                heldHead = head
                return
            }
            context.fireChannelRead(wrapInboundOut(.head(head)))
            if headers.endStream { context.fireChannelRead(wrapInboundOut(.end(nil))) }
        case .data(let data):
            guard headReceived, case .byteBuffer(let buffer) = data.data else { return }
            if let head = heldHead {
                if buffer.readableBytes == 0 {
                    guard data.endStream else { return }
                    // No body after all: the head goes on as one that ended with its HEADERS.
                    heldHead = nil
                    var bodiless = head
                    bodiless.headers.remove(name: "transfer-encoding")
                    context.fireChannelRead(wrapInboundOut(.head(bodiless)))
                    context.fireChannelRead(wrapInboundOut(.end(nil)))
                    return
                }
                heldHead = nil
                context.fireChannelRead(wrapInboundOut(.head(head)))
            }
            if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(buffer))) }
            if data.endStream { context.fireChannelRead(wrapInboundOut(.end(nil))) }
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            let block = Self.responseHeaders(head)
            if head.status.code >= 100, head.status.code < 200, head.status != .switchingProtocols {
                writePending(context: context)
                context.write(wrapOutboundOut(.headers(.init(headers: block))), promise: promise)
                return
            }
            hold(.headers(.init(headers: block)), promise: promise, context: context)
        case .body(let body):
            hold(.data(.init(data: body)), promise: promise, context: context)
        case .end(let trailers):
            if let trailers, !trailers.isEmpty {
                writePending(context: context)
                let block = HPACKHeaders(httpHeaders: trailers, normalizeHTTPHeaders: true)
                context.write(wrapOutboundOut(.headers(.init(headers: block, endStream: true))), promise: promise)
                return
            }
            if let (heldPayload, held) = pending {
                var payload = heldPayload
                pending = nil
                payload.setEndStream()
                let combined = Self.combine(held, promise, on: context.eventLoop)
                context.write(wrapOutboundOut(payload), promise: combined)
            } else {
                context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))), promise: promise)
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    private func hold(_ payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        writePending(context: context)
        pending = (payload, promise)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let (payload, promise) = pending else { return }
        pending = nil
        context.write(wrapOutboundOut(payload), promise: promise)
    }

    private static func combine(
        _ first: EventLoopPromise<Void>?, _ second: EventLoopPromise<Void>?, on eventLoop: any EventLoop
    ) -> EventLoopPromise<Void>? {
        guard let first else { return second }
        guard let second else { return first }
        first.futureResult.cascade(to: second)
        return first
    }

    /// The request head of a HEADERS block, or `nil` when a pseudo-header is missing.
    static func requestHead(_ block: HPACKHeaders, endStream: Bool) -> HTTPRequestHead? {
        var method: String?
        var path: String?
        var authority: String?
        var regular: [(String, String)] = []
        var cookies: [String] = []
        var hasLength = false
        var hosts: [String] = []
        regular.reserveCapacity(block.count + 2)
        for (name, value, _) in block {
            switch name {
            case ":method": method = value
            case ":path": path = value
            case ":authority": authority = value
            case ":scheme", ":protocol": break
            case "cookie": cookies.append(value)
            case "host": hosts.append(value)
            default:
                if name.hasPrefix(":") { return nil }
                if name == "content-length" { hasLength = true }
                regular.append((name, value))
            }
        }
        // Methods are upper-case tokens here: `connect` must not slip past the CONNECT refusal.
        guard let method, let path, !method.isEmpty, method.utf8.count <= 32,
              method.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        else { return nil }
        var headers = HTTPHeaders()
        headers.reserveCapacity(regular.count + 3)
        if let authority {
            headers.add(name: "host", value: authority)
            for host in hosts where !RequestFraming.isExactly(host, authority.lowercased()) {
                headers.add(name: "host", value: host)
            }
        } else {
            for host in hosts { headers.add(name: "host", value: host) }
        }
        headers.add(contentsOf: regular)
        if !cookies.isEmpty { headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        if !hasLength, !endStream { headers.add(name: "transfer-encoding", value: "chunked") }
        return HTTPRequestHead(version: .init(major: 2, minor: 0), method: HTTPMethod(rawValue: method), uri: path, headers: headers)
    }

    /// A response head as an HPACK block: `:status`, then the fields in lower case without the
    /// connection-specific ones HTTP/2 forbids.
    static func responseHeaders(_ head: HTTPResponseHead) -> HPACKHeaders {
        var block = HPACKHeaders()
        block.reserveCapacity(head.headers.count + 1)
        block.add(name: ":status", value: String(head.status.code))
        block.add(contentsOf: HPACKHeaders(httpHeaders: head.headers, normalizeHTTPHeaders: true))
        return block
    }
}

enum HTTP2StreamCodecError: Error {
    case malformedRequestHead
}

extension HTTP2Frame.FramePayload {
    fileprivate mutating func setEndStream() {
        switch self {
        case .headers(var headers):
            headers.endStream = true
            self = .headers(headers)
        case .data(var data):
            data.endStream = true
            self = .data(data)
        default:
            break
        }
    }
}
