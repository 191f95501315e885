import NIOCore
import NIOHTTP1

/// Identifies one exchange on a connection or stream, so that an answer that arrives late
/// (an authentication, a connection, a credential check) is never applied to a later one.
struct ExchangeID: Hashable, Sendable, CustomStringConvertible {
    let value: UInt64
    var description: String { "#\(value)" }
}

/// What ``ProxyStateMachine`` asks its handler to do, in order.
enum ProxyAction {
    /// Decide the request: resolve the client address and the caller, evaluate the policy,
    /// build the plan, then report it with ``ProxyStateMachine/decided(_:plan:now:into:)``.
    case decide(ExchangeID, HTTPRequestHead, RequestFraming)
    /// Obtain an upstream connection for the exchange: the one kept from this client's last
    /// exchange when it goes to the same place (unless `fresh`), an idle pooled one, or a new
    /// one. Report with `upstreamAttached` or `upstreamConnectFailed`.
    case connect(ExchangeID, ForwardPlan, fresh: Bool)
    case writeUpstream(HTTPClientRequestPart)
    case flushUpstream
    /// Let go of the exchange's upstream connection: kept for this client's next request or
    /// pooled when `reusable`, closed otherwise.
    case releaseUpstream(reusable: Bool)
    /// Hold or resume reading the upstream (the client cannot take more / can again).
    case setUpstreamReads(Bool)
    case writeClient(HTTPServerResponsePart)
    /// Write the last part, flush, and close the client connection (or stream) once written.
    case writeClientThenClose(HTTPServerResponsePart)
    case flushClient
    /// Close the client connection (or reset the stream) now.
    case closeClient
    /// Pass a read request on to the client channel.
    case read
    /// The upstream switched to WebSocket: replace both HTTP pipelines with a byte tunnel.
    /// `identityUserID` is the user whose credential must stay valid while it lasts.
    case startTunnel(head: HTTPRequestHead, identityUserID: String?)
    /// Check the exchange's credential again; report with `credentialChecked`.
    case revalidate(ExchangeID, HTTPRequestHead, userID: String)
    case log(ExchangeRecord)
    /// An upstream failed: `kind` is `unavailable`, `timeout`, `reset` or `protocol`.
    case recordUpstreamError(route: String, kind: String)
    /// The upstream's response tried to set one of the gateway's own cookies, which was dropped
    /// (once per response): logged, and counted as an upstream error of kind `own_cookie`.
    case droppedOwnCookie(route: String)
}
