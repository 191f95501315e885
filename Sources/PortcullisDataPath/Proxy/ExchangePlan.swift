import NIOCore
import NIOHTTP1
import NIOSSL
import PortcullisCore

/// What the gateway decided to do with one request, made by ``RequestPlanner`` from the
/// request head, the caller and the policy, and carried out by ``ProxyStateMachine``.
enum ExchangePlan {
    /// Send the request upstream.
    case forward(ForwardPlan)
    /// Answer it here: a refusal, or a forward-auth answer.
    case respond(GatewayResponse)
}

/// An allowed request: where it goes and exactly what is sent. A class: the exchange and the
/// actions that carry it out share it rather than copy it.
final class ForwardPlan {
    /// The head the upstream receives, with the one framing the gateway chose.
    let upstreamHead: HTTPRequestHead
    let target: UpstreamTarget
    /// From the end of the request to the response head.
    let responseTimeout: TimeAmount
    /// For a WebSocket upgrade, the `Sec-WebSocket-Accept` the upstream's 101 must carry
    /// (``WebSocketHandshake``); `nil` for any other request.
    let webSocketAccept: String?
    var isWebSocketUpgrade: Bool { webSocketAccept != nil }
    /// Headers added to the response the client receives (a cookie to clear).
    let responseHeaders: [(String, String)]
    /// The gateway's cookie names: a `Set-Cookie` of the upstream's for one of them is dropped
    /// (empty for the control plane, which sets them).
    let ownCookieNames: [String]
    /// The user whose identity went upstream, if any: a long response or a tunnel is checked
    /// again while it lasts and ends when that credential stops being valid.
    let identityUserID: String?
    let log: ExchangeLog

    init(
        upstreamHead: HTTPRequestHead, target: UpstreamTarget, responseTimeout: TimeAmount, webSocketAccept: String?,
        responseHeaders: [(String, String)], ownCookieNames: [String] = [], identityUserID: String?, log: ExchangeLog
    ) {
        self.upstreamHead = upstreamHead
        self.target = target
        self.responseTimeout = responseTimeout
        self.webSocketAccept = webSocketAccept
        self.responseHeaders = responseHeaders
        self.ownCookieNames = ownCookieNames
        self.identityUserID = identityUserID
        self.log = log
    }
}

/// A complete response the gateway gives itself: a refusal, or a forward-auth answer.
struct GatewayResponse {
    var head: HTTPResponseHead
    var body: ByteBuffer
    var log: ExchangeLog
    /// Close the connection after the response: a request the gateway could not make sense of
    /// (400), and `CONNECT`, after which a parser may read the rest of the stream as a tunnel.
    var closesConnection = false
}

/// Where an upstream connection goes, and how to open one.
package struct UpstreamTarget {
    package var upstream: Upstream
    /// The client TLS context for an https upstream.
    package var tls: NIOSSLContext?
    package var connectTimeout: TimeAmount
    /// For upstream-error metrics.
    package var routeName: String
}

/// What the access log says about an exchange, filled in as it goes.
struct ExchangeLog {
    var client: IPAddress
    var method: String
    var host: String?
    var path: String
    var route: String
    /// The decision's outcome (`allow`, `forbidden`, …) or what ended the exchange (`aborted`).
    var outcome: String
    var reason: String
    var user: String?

    /// For a request refused before any decision (a framing error, an unparsable head).
    static func undecided(_ head: HTTPRequestHead?, client: IPAddress, reason: String) -> ExchangeLog {
        ExchangeLog(
            client: client,
            method: head?.method.rawValue ?? "-",
            host: head?.headers.first(name: "host"),
            path: head.map { RequestPlanner.pathForLog($0.uri) } ?? "-",
            route: "-",
            outcome: "bad_request",
            reason: reason,
            user: nil
        )
    }
}

/// One finished exchange, for the access log and metrics.
struct ExchangeRecord {
    let exchange: ProxyStateMachine.Exchange
    let duration: TimeAmount

    var log: ExchangeLog { exchange.log }
    var status: UInt { exchange.status }
    var bytesIn: Int { exchange.bytesIn }
    var bytesOut: Int { exchange.bytesOut }
}
