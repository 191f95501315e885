import PortcullisCore
import PortcullisTestSupport

/// The data path's promise, checked from two observers: what the access log says the gateway
/// did, and what the upstream parsed from the bytes it received (with a parser of its own).
/// - Every message the upstream received is unambiguously framed.
/// - The upstream sees exactly the requests the access log shows, never one more: each
///   request it parsed (complete or cut off) matches a distinct logged exchange that was let
///   through, by method and path.
/// - No request carries an identity header the gateway did not set.
package enum DataPathInvariants {
    /// Outcomes of requests refused before anything went upstream.
    static let refusedBeforeUpstream: Set<String> = ["unauthenticated", "forbidden", "not_found", "method_not_allowed"]

    /// The violations, in words; empty when the promise held.
    /// - Parameter identity: the identity headers the gateway was expected to set (lower-case
    ///   name → value), for a signed-in caller; empty for anonymous ones.
    package static func violations(
        accessLog: [LogRecorder.Entry], upstream: [UpstreamRequestParser.Result], identity: [String: String] = [:]
    ) -> [String] {
        var problems: [String] = []
        var available = accessLog.compactMap { entry -> (method: String, path: String)? in
            let outcome = entry.metadata["decision"] ?? ""
            let route = entry.metadata["route"] ?? "-"
            guard route != "-", !refusedBeforeUpstream.contains(outcome) else { return nil }
            return (entry.metadata["method"] ?? "", entry.metadata["path"] ?? "")
        }
        for (connection, result) in upstream.enumerated() {
            for violation in result.violations {
                problems.append("upstream connection \(connection): \(violation)")
            }
            for request in result.requests + (result.partial.map { [$0] } ?? []) {
                let path = decodedPath(request.target)
                if let index = available.firstIndex(where: { $0.method == request.method && $0.path == path }) {
                    available.remove(at: index)
                } else {
                    problems.append("upstream connection \(connection) received \(request.method) \(request.target), which the access log does not show as let through")
                }
                for (name, value) in request.headers where HeaderRules.disposition(ofRequestHeader: name) == .identity {
                    if identity[name.lowercased()] != value {
                        problems.append("upstream connection \(connection) received identity header \(name): \(value) on \(request.method) \(request.target)")
                    }
                }
            }
        }
        return problems
    }

    /// The path of a request-target, percent-decoded, without the query: what the access log
    /// records.
    static func decodedPath(_ target: String) -> String {
        let path = target.prefix { $0 != "?" }
        var bytes: [UInt8] = []
        var iterator = path.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
