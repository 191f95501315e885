import AsyncHTTPClient
import Foundation
import MetricsTestKit
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing
@testable import PortcullisDataPath

extension ServerTests {
/// An upstream never sets, replaces or clears the gateway's own cookies (issue 21 item 11): a
/// `Set-Cookie` for `__Host-portcullis` or `__Host-portcullis-login`, in any spelling a browser
/// or the gateway's own `Cookie` reader would take for one, is dropped from the upstream's
/// response, over HTTP/1.1 and HTTP/2, and the app's other cookies in the same response go
/// through. Before, every one of them reached the browser: an app (or whoever controls part of
/// one) could plant a session of its choosing or sign the user out.
@Suite("An upstream cannot set the gateway's cookies")
struct OwnCookieTests {
    static let kept = TestUpstream.setCookies.filter { $0.contains("kept") }

    @Test("the real upstream's Set-Cookie headers for our names are dropped, the app's kept, over HTTP/1.1 and HTTP/2",
          arguments: [true, false])
    func dropped(http1: Bool) async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let (response, _) = try await gateway.fetch("/set-cookies", http1: http1)
        #expect(response.status == .ok)
        #expect(response.version.major == (http1 ? 1 : 2))
        let cookies = response.headers[canonicalForm: "set-cookie"].map(String.init)
        // What a parser (the client's) read: the order and spelling the upstream sent.
        #expect(cookies.map { $0.trimmingCharacters(in: .whitespaces) } == Self.kept, "\(cookies)")
        #expect(!cookies.contains { $0.contains("planted") || $0.lowercased().hasPrefix("__host-portcullis=;") })

        // Counted and logged once for the response, however many were dropped.
        let counter = try gateway.metrics.expectCounter("portcullis_upstream_errors_total", [("route", "app"), ("kind", "own_cookie")])
        #expect(counter.totalValue == 1)
        #expect(gateway.logs.entries(message: "the upstream tried to set the gateway's own cookie; the Set-Cookie was dropped").count == 1)

        // A response without any of ours is passed on as it was and not counted.
        let (plain, _) = try await gateway.fetch("/echo", http1: http1)
        #expect(plain.status == .ok)
        #expect(counter.totalValue == 1)
    }

    @Test("Set-Cookie names as the gateway reads them", arguments: [
        ("__Host-portcullis=x", true), ("__host-portcullis=x", true), ("__HOST-PORTCULLIS=x", true), ("__Host-Portcullis=x", true),
        ("__Host-portcullis-login=x; Path=/", true), ("  __Host-portcullis  =  x", true), ("\t__Host-portcullis=x", true),
        ("=__Host-portcullis=x", true), ("==  __Host-portcullis=x", true), ("__Host-portcullis", true),
        ("a=b,__Host-portcullis=x", true), ("a=b , __Host-portcullis=x", true), ("a,__Host-portcullis=x", true),
        ("__Host-portcullis=; Max-Age=0", true),
        ("__Host-portcullis-other=x", false), ("portcullis=x", false), ("__Secure-portcullis=x", false),
        ("x=1; __Host-portcullis=x", false), ("x=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", false), ("", false), ("=", false),
        ("x__Host-portcullis=1", false),
    ])
    func names(_ value: String, _ ours: Bool) {
        #expect(SetCookieHeader.setsAny(of: SessionCookie.allNames, value) == ours, "\(value)")
    }
}
}
