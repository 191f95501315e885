import NIOHTTP1
import PortcullisCore

/// The response head the client receives: the upstream's, without hop-by-hop headers, with
/// `Strict-Transport-Security` set. Most responses only lose `Connection: keep-alive`.
enum UpstreamResponseBuilder {
    static func build(_ upstream: HTTPResponseHead, hsts: String?, isUpgrade: Bool) -> HTTPResponseHead {
        var connectionListed: [Substring] = []
        var needsRewrite = false
        for (name, value) in upstream.headers {
            guard let first = name.utf8.first else { continue }
            switch first | 0x20 {
            case UInt8(ascii: "c"):
                if HeaderRules.name(name, equals: "connection") {
                    needsRewrite = true
                    connectionListed.append(contentsOf: HeaderTokens.split(value))
                }
            case UInt8(ascii: "k"), UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "u"):
                if HeaderRules.isHopByHopResponseHeader(name) { needsRewrite = true }
            case UInt8(ascii: "s"):
                if hsts != nil, HeaderRules.name(name, equals: "strict-transport-security") { needsRewrite = true }
            default:
                continue
            }
        }
        var head = upstream
        head.version = .http1_1
        if needsRewrite {
            var headers = HTTPHeaders()
            headers.reserveCapacity(upstream.headers.count + 1)
            for (name, value) in upstream.headers {
                if HeaderRules.isHopByHopResponseHeader(name) { continue }
                if hsts != nil, HeaderRules.name(name, equals: "strict-transport-security") { continue }
                if !connectionListed.isEmpty, connectionListed.contains(where: { HeaderRules.name(name, equals: $0.lowercased()) }) {
                    continue
                }
                headers.add(name: name, value: value)
            }
            head.headers = headers
        }
        if let hsts { head.headers.add(name: "Strict-Transport-Security", value: hsts) }
        if isUpgrade {
            head.headers.add(name: "Connection", value: "Upgrade")
            head.headers.add(name: "Upgrade", value: "websocket")
        }
        return head
    }
}
