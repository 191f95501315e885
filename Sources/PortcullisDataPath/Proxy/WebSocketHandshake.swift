import Crypto
import Foundation
import NIOHTTP1

/// The opening handshake of RFC 6455 §4, as the gateway checks it on both sides: a request is
/// an upgrade only with exactly one well-formed `Sec-WebSocket-Key`, and the tunnel opens only
/// on a 101 that answers that key (`Upgrade: websocket` and the `Sec-WebSocket-Accept` the key
/// calls for). Any other 101 would let an app endpoint whose status a caller can choose (a
/// status relay, a mock) turn the connection into a raw pipe past every later decision (the
/// "WebSocket smuggling" of Varnish and Envoy).
enum WebSocketHandshake {
    /// RFC 6455 §1.3.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The client's key when the request holds exactly one, the base64 of 16 bytes (§4.1).
    static func key(_ headers: HTTPHeaders) -> String? {
        let keys = headers["Sec-WebSocket-Key"]
        guard keys.count == 1, let key = keys.first?.trimmingCharacters(in: .whitespaces), key.utf8.count == 24,
              let bytes = Data(base64Encoded: key), bytes.count == 16
        else { return nil }
        return key
    }

    /// The `Sec-WebSocket-Accept` that answers `key`: base64(SHA-1(key + GUID)).
    static func accept(forKey key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + guid).utf8))).base64EncodedString()
    }

    /// Whether an upstream's 101 answers the handshake whose accept value is `accept`: one
    /// `Upgrade` naming `websocket`, and exactly one `Sec-WebSocket-Accept` equal to it.
    static func isAnswer(_ head: HTTPResponseHead, accept: String) -> Bool {
        let upgrades = head.headers["Upgrade"], accepts = head.headers["Sec-WebSocket-Accept"]
        guard upgrades.count == 1, let upgrade = upgrades.first, HeaderTokens.contains(upgrade, token: "websocket"),
              accepts.count == 1, accepts.first?.trimmingCharacters(in: .whitespaces) == accept
        else { return false }
        return true
    }
}
