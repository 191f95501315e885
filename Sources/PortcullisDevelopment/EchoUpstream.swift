import Foundation
import Hummingbird
import Logging
import NIOCore
import PortcullisCore
import PortcullisDataPath

/// The small upstream of `portcullis dev`: shows the identity headers the gateway sent it, as
/// a page for browsers and as JSON for API clients. Plain HTTP on loopback.
package enum EchoUpstream {
    package static func makeApplication(host: String = "127.0.0.1", port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.on("**", method: .get) { request, _ in respond(request) }
        router.on("**", method: .post) { request, _ in respond(request) }
        router.get("/") { request, _ in respond(request) }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    static func respond(_ request: Request) -> Response {
        var identity: [(String, String)] = []
        var forwarded: [(String, String)] = []
        for field in request.headers {
            let name = field.name.canonicalName
            if name.hasPrefix("x-portcullis-") { identity.append((field.name.rawName, field.value)) }
            if name.hasPrefix("x-forwarded-") || name == "x-real-ip" { forwarded.append((field.name.rawName, field.value)) }
        }
        let wantsJSON = (request.headers[.accept] ?? "").contains("application/json")
        if wantsJSON {
            var object: [String: Any] = ["path": request.uri.string, "method": request.method.rawValue]
            object["identity"] = Dictionary(identity, uniquingKeysWith: { first, _ in first })
            object["forwarded"] = Dictionary(forwarded, uniquingKeysWith: { first, _ in first })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        func rows(_ pairs: [(String, String)]) -> String {
            pairs.map { "<tr><th scope=\"row\"><code>\(HTMLText.escape($0))</code></th><td><code>\(HTMLText.escape(String($1.prefix(200))))</code></td></tr>" }.joined()
        }
        let user = identity.first { $0.0.lowercased() == "x-portcullis-email" }?.1 ?? "nobody (a package page)"
        let role = identity.first { $0.0.lowercased() == "x-portcullis-role" }?.1 ?? "—"
        let html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upstream — portcullis dev</title>
        <style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}th,td{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}code{word-break:break-all}</style>
        </head><body><main>
        <h1>The application behind the gateway</h1>
        <p>Signed in as <strong>\(HTMLText.escape(user))</strong>, primary role <strong>\(HTMLText.escape(role))</strong>. Path: <code>\(HTMLText.escape(request.uri.path))</code></p>
        <h2>Identity headers the gateway sent</h2><table>\(rows(identity))</table>
        <h2>Forwarding headers</h2><table>\(rows(forwarded))</table>
        <form method="post" action="/_portcullis/logout"><p><button type="submit">Sign out</button> · <a href="/_portcullis/console/">Console</a></p></form>
        </main></body></html>
        """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
