import Foundation
import NIOCore
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisDataPathTesting
import PortcullisTestSupport
import Testing

/// Adversarial review of issue 21 (second round): ``ForwardAuth/isPlainPath(_:)`` looks for
/// `;params` in the *raw* path, but ``RequestTarget`` cuts them *after* percent-decoding, so
/// `..%3b` is `..` to the decision and `..;` (a directory named so) to the app behind the proxy.
@Suite("Forward-auth: an encoded ; never hides a dot segment")
struct ForwardAuthEncodedParamsTests {
    @Test("a `..` whose ;params are percent-encoded is refused 400, never decided as the path it climbs to", arguments: [
        "/reports/..%3b/public/x", "/reports/..%3B/public/x", "/reports/%2e%2e%3b/public/x", "/reports/..%3bjsessionid=1/public/x",
        "/reports/.%2E%3Bx/public/x",
    ])
    func encodedParamsRefused(_ path: String) throws {
        let gateway = ForwardAuthTests.gateway()
        for request in [
            "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: \(path)\r\n\r\n",
            "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\n"
                + "X-Forwarded-Uri: \(path)\r\n\r\n",
        ] {
            let answer = try ForwardAuthTests.ask(gateway, request)
            #expect(!answer.hasPrefix("HTTP/1.1 200"), "\(path) was allowed as \(gateway.accessLog.last?.metadata["path"] ?? "?"): \(answer.prefix(200))")
        }
    }

    /// The property `isPlainPath` promises: a path it calls plain has the same segments raw (each
    /// percent-decoded, `;params` cut as the decision cuts them) as normalised.
    @Test("a plain path reads the same before and after normalisation", arguments: [
        "/reports/..%3b/public/x", "/a/%2e%2e%3b/b", "/a/.%3b/b", "/public/a;v=1", "/public//x", "/public/caf%C3%A9",
    ])
    func plainMeansUnchanged(_ path: String) throws {
        guard ForwardAuth.isPlainPath(path) else { return }
        let normalized = try RequestTarget(parsing: path).path.segments
        let raw = path.split(separator: "/").map { segment in
            String(segment).removingPercentEncoding.map { String($0.prefix { $0 != ";" }) } ?? String(segment)
        }.filter { !$0.isEmpty }
        #expect(raw == normalized, "\(path): plain, but raw segments \(raw) normalise to \(normalized)")
    }
}
